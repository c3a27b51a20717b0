"""What kind of answer a question asks for, and whether a text gives it.

Only the reliable cases are checked: "how many / how much" wants a figure, "when / what day /
what year" wants a time expression, "which province / which city" wants a place name (a
capitalised name the question does not already give; not "where": "in each other's capitals").
A claim that answers such a question without one is not an answer, however well it is quoted.
"""

from __future__ import annotations

import re

from qa.answer.support import strict_tokens
from qa.text import NUMBER_WORDS, fold, terms

_NUMBER_Q = re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|share)\b|\bdeath toll\b", re.IGNORECASE)
_TIME_Q = re.compile(r"^\s*when\b|\bwhat (day|date|year|month|time)\b|\bon which (day|date)\b", re.IGNORECASE)
_PLACE_Q = re.compile(
    r"\b(which|what)\s+(\w+\s+)?(province|city|country|nation|town|village|region|district|area)\b",
    re.IGNORECASE,
)
_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_TIME_WORDS = set(f"{_MONTHS} {_DAYS} day days week weeks month months year years morning night evening "
                  "hours hour dawn pre-dawn yesterday today tonight earlier later ago".split())


def expected(question: str) -> str | None:
    """'number', 'time', 'place', or None when the question's answer type is not checked."""
    if _NUMBER_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _PLACE_Q.search(question):
        return "place"
    return None


def numbers(text: str) -> set[str]:
    """Figures in ``text`` as digit strings ("nine" -> "9")."""
    words = re.findall(r"[a-z]+", fold(text))
    return set(re.findall(r"\d+", text)) | {NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS}


def gives(kind: str | None, text: str, question: str) -> bool:
    """True if ``text`` holds an answer of ``kind`` that the question itself does not already hold."""
    if kind is None:
        return True
    if kind == "number":
        return bool(numbers(text) - numbers(question))
    if kind == "place":
        names = {t for t in strict_tokens(text) if not t.isdigit()}  # number words are digits here too
        return bool(names - strict_tokens(question) - set(terms(question)) - _TIME_WORDS)
    words = set(re.findall(r"[a-z-]+", fold(text)))
    return bool(words & _TIME_WORDS) or bool(re.search(r"\b(19|20)\d\d\b|\b\d{1,2}\b", text))
