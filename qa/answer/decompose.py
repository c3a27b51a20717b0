"""Split a compound question ("What did A claim, and how did B respond?") into the questions it asks.

A small model answers one question per prompt: given two, it answers the first and drops the second.
Each part is answered on its own, the later ones with the earlier parts as conversation history,
so that "that claim" in the second part is condensed against the first.
"""

from __future__ import annotations

import re

MAX_PARTS = 3
MIN_WORDS = 3  # a shorter tail ("and when?") stays with its question
_ASKS = r"(?:what|how|who|whom|whose|which|where|when|why|did|does|do|is|was|were|are|has|have|had|can|could)\b"
# ", and what ..." / " and how did ..." / "? And who ..." / "? Which ..."
_JOIN = re.compile(rf"(?:,\s*|\s+)(?:and|but)\s+(?={_ASKS})|\?\s+(?:(?:and|but|also)\s+)?(?={_ASKS})", re.IGNORECASE)


def split_question(question: str) -> list[str]:
    """The separate questions of ``question``, each ending in "?"; ``[question]`` when it asks one thing."""
    parts: list[str] = []
    pos = 0
    for m in _JOIN.finditer(question):
        head = question[pos : m.start()].strip(" ,;?")
        tail = question[m.end() :].strip(" ,;?")
        if len(head.split()) >= MIN_WORDS and len(tail.split()) >= MIN_WORDS:
            parts.append(head)
            pos = m.end()
            if len(parts) == MAX_PARTS - 1:  # the rest, joins and all, is the last part
                break
    if not parts:
        return [question]
    parts.append(question[pos:].strip(" ,;?"))
    return [_as_question(p) for p in parts]


def _as_question(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip("?.") + "?"
