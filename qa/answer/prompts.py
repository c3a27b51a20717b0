"""Prompt templates, kept as files under ``prompts/`` and loaded at run time."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from langchain_core.prompts import PromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@cache
def template_text(name: str) -> str:
    """The raw text of ``prompts/<name>.txt``."""
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")


def naive_prompt() -> PromptTemplate:
    """LangChain's tutorial RAG prompt (used only by the ``naive`` baseline)."""
    return PromptTemplate.from_template(template_text("naive_rag"))
