"""Citation numbering and markers: one number per quoted sentence, ``[n]`` before a sentence's stop."""

from __future__ import annotations

import re

from qa.models import Citation, Passage

_END = re.compile(r"([.?!]?)([\"\u201d\u2019']?)$")


class Citations:
    """The numbered citations of one answer; a sentence quoted twice keeps its number."""

    def __init__(self) -> None:
        self.items: list[Citation] = []

    def number(self, p: Passage) -> int:
        """The number of sentence ``p``, adding it on first use. Its quote is exactly the indexed text."""
        for c in self.items:
            if (c.source, c.start, c.end) == (p.source, p.start, p.end):
                return c.n
        n = len(self.items) + 1
        self.items.append(Citation(n, p.source, p.text, p.start, p.end, p.chunk_id, p.title, p.page))
        return n


def marked(sentence: str, numbers: list[int]) -> str:
    """``sentence`` with ``[n]`` markers before its final stop (and after a closing quotation mark)."""
    sentence = " ".join(sentence.split()).rstrip(",;:")
    end = _END.search(sentence)
    assert end is not None  # the pattern matches the empty string
    marks = "".join(f"[{n}]" for n in numbers)
    return f"{sentence[: end.start()]}{end.group(2)} {marks}{end.group(1) or '.'}"


def without_markers(text: str) -> str:
    """``text`` without its ``[n]`` citation markers."""
    return re.sub(r"\s*\[\d+\]", "", text)
