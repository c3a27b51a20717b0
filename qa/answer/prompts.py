"""Prompt templates, kept as files under the top-level ``prompts/`` folder and loaded at run time.

``prompts/`` is the one source of truth. A wheel ships it as ``qa/prompts/`` (pyproject maps the package
``qa.prompts`` to the folder), read with :mod:`importlib.resources`; a source checkout reads its own folder.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from langchain_core.prompts import PromptTemplate


@cache
def prompts_dir() -> Traversable:
    """Where the prompt files are: the checkout's ``prompts/`` when ``qa`` runs from a source tree, else the
    copy inside the installed package.

    The checkout is tried first because an editable install of another checkout maps ``qa.prompts`` to *its*
    folder, which ``python -m`` from a worktree would otherwise pick up.
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "prompts").is_dir():
        return checkout / "prompts"
    return files("qa") / "prompts"  # the package data folder qa/prompts/ (read as a folder of qa, not as a
    # namespace package of its own, which could merge same-named folders from elsewhere on sys.path)


def prompt_names() -> list[str]:
    """The names of the prompt files (``<name>.txt``), sorted."""
    return sorted(p.name.removesuffix(".txt") for p in prompts_dir().iterdir() if p.name.endswith(".txt"))


@cache
def template_text(name: str) -> str:
    """The raw text of ``prompts/<name>.txt``."""
    return (prompts_dir() / f"{name}.txt").read_text(encoding="utf-8")


def naive_prompt() -> PromptTemplate:
    """LangChain's tutorial RAG prompt (used only by the ``naive`` baseline)."""
    return PromptTemplate.from_template(template_text("naive_rag"))
