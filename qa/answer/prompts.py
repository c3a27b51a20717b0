"""Prompt templates, kept as files under ``prompts/`` and loaded at run time."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@cache
def template_text(name: str) -> str:
    """The raw text of ``prompts/<name>.txt``."""
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")


def answer_prompt() -> ChatPromptTemplate:
    """System rules plus the evidence/question message."""
    return ChatPromptTemplate.from_messages(
        [("system", template_text("answer_system")), ("human", template_text("answer_user"))]
    )


def condense_prompt() -> ChatPromptTemplate:
    """Turns a follow-up plus history into a standalone question."""
    return ChatPromptTemplate.from_messages([("human", template_text("condense"))])


def judge_prompt() -> ChatPromptTemplate:
    """Asks the model whether one sentence answers the question (read as P(Yes), see qa.answer.judge)."""
    return ChatPromptTemplate.from_messages([("human", template_text("judge"))])


def naive_prompt() -> PromptTemplate:
    """LangChain's tutorial RAG prompt (used only by the ``naive`` baseline)."""
    return PromptTemplate.from_template(template_text("naive_rag"))
