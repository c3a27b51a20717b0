"""Where sources disagree on a figure, say so: news reports often give different tolls or counts.

A small model answers from one passage. For a question that asks for a figure ("how many ..."),
the evidence is searched for sentences that are about the question as much as the quoted answer is
and give a figure the answer does not. Each such sentence is quoted verbatim after the answer, so
the user sees every account the evidence holds, each with its own citation.
"""

from __future__ import annotations

import re

from qa.answer.answer_type import numbers
from qa.answer.evidence import idf_weights, lexical_coverage
from qa.models import Passage
from qa.text import sentence_spans, terms

MIN_COVERAGE = 0.45  # of the question's IDF-weighted terms, whatever the answer's own quote covers
SLACK = 0.15  # another account may cover the question this much less than the answer's quote
_DATE = re.compile(
    r"\b(?:\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct"
    r"|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def figures(text: str) -> set[str]:
    """The counts a text states (dates and years are not counts)."""
    return numbers(_DATE.sub(" ", text))


def other_accounts(
    asked: str,
    answer: str,
    quoted: list[tuple[Passage, int, int]],
    evidence: list[Passage],
    idf: dict[str, float],
    limit: int = 2,
) -> list[tuple[Passage, int, int]]:
    """Evidence sentences, as (passage, start, end), that give other figures for what ``asked`` asks.

    ``answer`` is the verified answer text and ``quoted`` the spans it cites.
    """
    weights = idf_weights(idf, terms(asked))
    base = max((lexical_coverage(weights, p.text[a:b]) for p, a, b in quoted), default=0.0)
    floor = max(MIN_COVERAGE, base - SLACK)
    have = figures(answer) | figures(asked)
    taken = {(p.source, p.start + a) for p, a, _ in quoted}
    candidates = []
    for p in evidence:
        for a, b in sentence_spans(p.text):
            if (p.source, p.start + a) in taken or not figures(p.text[a:b]) - have:
                continue
            cov = lexical_coverage(weights, p.text[a:b])
            if cov >= floor:
                candidates.append((cov, p, a, b))
    out: list[tuple[Passage, int, int]] = []
    for _, p, a, b in sorted(candidates, key=lambda c: -c[0]):
        new = figures(p.text[a:b]) - have
        if new and len(out) < limit:
            out.append((p, a, b))
            have |= new
    return out
