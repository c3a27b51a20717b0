"""Where sources disagree, say so: news reports often give different tolls, or name different people.

A small model answers from one passage. For a question that asks for a figure ("how many ..."), for
who holds a role ("who is Pakistan's prime minister?"), or for several named things ("which groups
did ..."), the evidence is searched for sentences that are about the question as much as the quoted
answer is and give a figure, name a holder of that role, or name other things, that the answer does
not. Each such sentence is quoted verbatim after the answer, so the user sees every account the
evidence holds, each with its own citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from qa.answer.answer_type import expected, named, numbers
from qa.answer.evidence import idf_weights, lexical_coverage
from qa.answer.support import main_clause, strict_tokens
from qa.models import Passage
from qa.text import FILLER, fold, has_term, sentence_spans, stem, terms

MIN_COVERAGE = 0.45  # of the question's IDF-weighted terms, whatever the answer's own quote covers
SLACK = 0.15  # another account may cover the question this much less than the answer's quote
_DATE = re.compile(
    r"\b(?:\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct"
    r"|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_WHO_IS = re.compile(r"^\s*who\s+(?:is|was|are|were)\b", re.IGNORECASE)
# "which groups did ...", "what goods were ...": a plural thing asked for, so every account may name more
_WHICH_ONES = re.compile(
    r"^\W*(?:which|what)\s+(?:[a-z-]+\s+)?[a-z]{3,}(?<!ss)(?<!us)(?<!is)s\s+(?:did|do|does|were|are|have|had)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-z\u00C0-\u024F]+(?:[-\u2019'][A-Za-z\u00C0-\u024F]+)*")
OWNER_REACH = 3  # "Pakistan's caretaker Prime Minister": the owner may stand this many words before the role


def figures(text: str) -> set[str]:
    """The counts a text states (dates and years are not counts)."""
    return numbers(_DATE.sub(" ", text))


@lru_cache(maxsize=64)
def _owner_and_role(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """The names a "who is <owner>'s <role>?" question gives, and its other main-clause terms (the role)."""
    owners = frozenset(strict_tokens(question))
    return owners, frozenset(t for t in terms(main_clause(question)) if t not in owners and t not in FILLER)


def holders(question: str, text: str) -> set[str]:
    """Names ``text`` gives right after the role a "who is <owner>'s <role>?" question asks about.

    "Pakistani Prime Minister Gilani said ..." gives {"gilani"} for "Who is Pakistan's prime
    minister?"; "Iranian Foreign Minister Hossein ..." gives nothing: another role, another owner.
    """
    owners, role = _owner_and_role(question)
    if not role:
        return set()
    tokens = list(_TOKEN.finditer(text))
    stems = [stem(re.sub(r"[\u2019']s$", "", fold(t.group(0)))) for t in tokens]

    def joined(k: int) -> bool:  # token k follows token k-1 with nothing but space between
        return k > 0 and not text[tokens[k - 1].end() : tokens[k].start()].strip()

    out: set[str] = set()
    for i in range(len(tokens)):
        if stems[i] not in role or (joined(i) and stems[i - 1] in role):
            continue  # not the start of a run of role words
        j = i + 1
        while j < len(tokens) and stems[j] in role and joined(j):
            j += 1
        if set(stems[i:j]) != role:
            continue
        if owners and not any(has_term(o, set(stems[max(0, i - OWNER_REACH) : i])) for o in owners):
            continue
        k = j
        while k < len(tokens) and k - j < 4 and tokens[k].group(0)[0].isupper() and joined(k):
            k += 1
        out |= {fold(part) for t in tokens[j:k] for part in re.split(r"[-\u2019']", t.group(0)) if len(part) > 2}
    return out


def other_accounts(
    asked: str,
    answer: str,
    quoted: list[tuple[Passage, int, int]],
    evidence: list[Passage],
    idf: dict[str, float],
    limit: int = 2,
) -> list[tuple[Passage, int, int]]:
    """Evidence sentences, as (passage, start, end), that give other figures or holders for what ``asked`` asks.

    ``answer`` is the verified answer text and ``quoted`` the spans it cites. Questions of other kinds
    get none.
    """
    says: Callable[[str], set[str]]
    if expected(asked) == "number":
        have = figures(answer) | figures(asked)

        def says(text: str) -> set[str]:  # the figures not given yet
            return figures(text) - have
    elif _WHO_IS.match(asked):
        have = {fold(w) for w in re.findall(r"[A-Za-z\u00C0-\u024F]+", answer) if w[0].isupper()}
        have |= {n for p, a, b in quoted for n in holders(asked, p.text[a:b])}

        def says(text: str) -> set[str]:  # a holder sharing no name with one given ("Anwar" is "Anwaar ... Kakar")
            holding = holders(asked, text)
            return holding if holding.isdisjoint(have) else set()
    elif _WHICH_ONES.match(asked):
        have, given = set(), f"{asked} {answer}"
        limit = min(limit, 1)  # the best covering one: further sentences naming something new were mostly about other things

        def says(text: str) -> set[str]:  # names neither the question nor the answer gives
            return named(text, given) - have
    else:
        return []
    weights = idf_weights(idf, terms(asked))
    base = max((lexical_coverage(weights, p.text[a:b]) for p, a, b in quoted), default=0.0)
    floor = max(MIN_COVERAGE, base - SLACK)
    taken = {(p.source, p.start + a) for p, a, _ in quoted}
    candidates = []
    for p in evidence:
        for a, b in sentence_spans(p.text):
            if (p.source, p.start + a) in taken or not says(p.text[a:b]):
                continue
            cov = lexical_coverage(weights, p.text[a:b])
            if cov >= floor:
                candidates.append((cov, p, a, b))
    out: list[tuple[Passage, int, int]] = []
    for _, p, a, b in sorted(candidates, key=lambda c: -c[0]):
        new = says(p.text[a:b])
        if new and len(out) < limit:
            out.append((p, a, b))
            have |= new
    return out
