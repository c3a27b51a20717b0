"""The structured result of ``ask()``: answer text, verified citations, evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """A quote that supports part of the answer: ``quote == file_text[start:end]``."""

    n: int
    source: str
    quote: str
    start: int
    end: int
    chunk_id: str
    title: str = ""
    page: int | None = None  # 1-based page the quote starts on (paged formats: PDF), else None


@dataclass(frozen=True)
class Passage:
    """A retrieved span of a source file (a chunk or a sentence) with its score."""

    source: str
    title: str
    text: str
    start: int
    end: int
    chunk_id: str
    score: float = 0.0
    section: str = ""  # the heading of the document section it is in (sentences and evidence only)
    page: int | None = None  # 1-based page ``text`` starts on (paged formats: PDF), else None

    def page_at(self, offset: int) -> int | None:
        """The page of ``text[offset]``: this passage's page plus the form feeds (page breaks) before it."""
        return None if self.page is None else self.page + self.text.count("\f", 0, offset)

    @property
    def context(self) -> str:
        """What the text is about beyond its own words: its document's title and its section heading."""
        return f"{self.title}\n{self.section}" if self.section else self.title


@dataclass(frozen=True)
class Progress:
    """What an answer waits for while no verified text is ready: the model reading ``passages`` numbered
    sentences from the documents titled ``sources`` (the best few first; all of them when those do not answer)."""

    passages: int
    sources: tuple[str, ...]

    @classmethod
    def of(cls, shown: list[Passage]) -> Progress:
        """The progress of reading the sentences ``shown``."""
        return cls(len(shown), tuple(dict.fromkeys(p.title or p.source for p in shown)))


@dataclass
class Answer:
    """What ``ask()`` returns. ``refused`` is True when the sources do not support an answer."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    evidence: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    raw: str = ""  # the model's draft, before verification
    standalone: str = ""  # the question as condensed with the history

    @property
    def sources(self) -> list[str]:
        """Distinct cited file names, in citation order."""
        return list(dict.fromkeys(c.source for c in self.citations))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable view."""
        d = asdict(self)
        d["sources"] = self.sources
        return d
