"""Turn a draft answer into verified claims: drop phantom ids, re-cite or drop unsupported claims.

Each kept claim cites the exact sentence(s) that support it: the quote is the smallest span of
one or two adjacent sentences of an evidence passage that holds the claim's names, numbers and
most of its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from qa.answer.answer_type import expected, gives
from qa.answer.citations import Claim, is_refusal, strip_markers, with_marks
from qa.answer.evidence import idf_weights, lexical_coverage
from qa.answer.judge import SentenceJudge
from qa.answer.pointer import MIN_QUESTION_COVERAGE
from qa.answer.support import (
    best_span,
    held,
    main_clause,
    normal_terms,
    strict_tokens,
    unseen_names,
    without_unseen,
)
from qa.models import Citation, Passage
from qa.text import FILLER, STOPWORDS, has_term, terms, vocabulary, words

# a claim ending in one of these breaks off ("Iran's ambassador is [1]."); not "8 DHW or more [1]", "talks are over"
UNFINISHED = STOPWORDS - frozenset("""more most again too only here there now then once out off up down over under all
    both each few same other own before after above below him them me it itself themselves himself herself yours hers
    ours theirs""".split())
ON_QUESTION = 0.2  # a kept claim with its quote must hold at least this IDF-weighted share of the question


@dataclass
class Verifier:
    """Checks claims against the numbered evidence and numbers the citations it keeps."""

    question: str
    evidence: list[Passage]
    unseen: dict[str, set[str]] = field(default_factory=dict)  # question words absent from the corpus
    idf: dict[str, float] = field(default_factory=dict)  # corpus IDF; empty = no on-question check
    vouch: SentenceJudge | None = None  # the model's "does this sentence answer the question?" (qa.answer.judge)
    citations: list[Citation] = field(default_factory=list)
    stats: dict[str, int] = field(
        default_factory=lambda: {"claims": 0, "kept": 0, "dropped": 0, "repaired": 0, "phantom": 0, "refusals": 0,
                                 "off_type": 0, "off_question": 0, "repeated": 0, "vouched": 0, "unvouched": 0,
                                 "restated": 0}
    )
    _numbers: dict[tuple[str, int, int], int] = field(default_factory=dict)
    _said: set[str] = field(default_factory=set)

    def supporting(self, claim: Claim) -> list[tuple[Passage, int, int]]:
        """(passage, start, end) spans that back ``claim``, preferring the passages it cited.

        When no span holds the question's corpus-unseen words (other than names), the best span
        that backs the rest of the claim may still do, if the model vouches that it answers the
        question (see :mod:`qa.answer.judge`).
        """
        text = strip_markers(claim.text)
        valid = [n for n in claim.cited if 1 <= n <= len(self.evidence)]
        self.stats["phantom"] += len(claim.cited) - len(valid)
        found = self._spans(text, valid, self.unseen)
        if found and self.vouch and self._leaves_open(text, found):
            if self._vouched(found):
                return found
            self.stats["unvouched"] += 1
            return []
        if found or not self.vouch:
            return found
        names = unseen_names(self.question, self.unseen)
        if len(names) == len(self.unseen):
            return []
        relaxed = self._spans(text, valid, names, frozenset(self.unseen) - set(names))
        return relaxed if relaxed and self._vouched(relaxed) else []

    def _vouched(self, spans: list[tuple[Passage, int, int]]) -> bool:
        """True (and counted) if the model vouches that every span answers the question."""
        assert self.vouch is not None
        if not all(self.vouch(p.text[a:b]) for p, a, b in spans):
            return False
        self.stats["vouched"] += 1
        return True

    @cached_property
    def _weights(self) -> dict[str, float]:
        """The question's terms with their corpus IDF weights."""
        return idf_weights(self.idf, terms(self.question))

    @cached_property
    def _main_terms(self) -> set[str]:
        """The question's main-clause content words other than its names."""
        return set(terms(main_clause(self.question))) - strict_tokens(self.question) - FILLER

    def _leaves_open(self, claim: str, spans: list[tuple[Passage, int, int]]) -> bool:
        """True if the claim, backed in its own words, may still not answer what the question asks.

        Only the model's judgement of the quote can then decide (see :mod:`qa.answer.judge`):
        - the claim repeats a word of the question's main clause that its quote lacks ("X is in charge
          of the group" quoting "X said ... the group's attacks"): the quote backs the rest, not that;
        - the claim is bare, only names or figures ("9 [4]."), and its quote does not plainly answer
          the question (cover ``MIN_QUESTION_COVERAGE`` of it, holding its corpus-unseen words);
        - the question has a word the corpus never uses, the claim answers without it (or a synonym), and
          its quote covers less than ``MIN_QUESTION_COVERAGE`` of the question's other words: "3 people
          were injured" for "how many were wounded in A's strikes on B?", quoting injuries from B's attack;
        - the question has a word the corpus never uses, and the claim puts a word of its own (not
          the question's) in its place that the quote lacks too ("who heads the BLA?" - "the BLA is
          led by the BLF").
        """
        quoted = " ".join(p.text[a:b] for p, a, b in spans)
        quotes = vocabulary(quoted)
        said, named = normal_terms(claim), strict_tokens(claim)
        missing = [t for t in said if not has_term(t, quotes)]
        if any(t in self._main_terms for t in missing):
            return True
        if said and set(said) <= named:
            plain = all(held(t, quotes, self.unseen) for t in self.unseen) and lexical_coverage(
                self._weights, quoted) >= MIN_QUESTION_COVERAGE
            return not plain
        loose = set(self.unseen) - set(unseen_names(self.question, self.unseen))
        says = vocabulary(claim)
        if loose and not any(held(t, says, self.unseen) for t in loose):
            if lexical_coverage(without_unseen(self._weights, loose), quoted) < MIN_QUESTION_COVERAGE:
                return True
        own = set(missing) - named - FILLER - set(normal_terms(self.question))
        if not (loose and own):
            return False
        return not any(has_term(t, says) for t in loose)

    def _spans(
        self, text: str, cited: list[int], unseen: dict[str, set[str]], ignore: frozenset[str] = frozenset()
    ) -> list[tuple[Passage, int, int]]:
        """Spans of the cited passages backing ``text``; failing those, the best span of any passage."""
        found = []
        for n in cited:
            p = self.evidence[n - 1]
            span = best_span(text, p.text, unseen, self.question, ignore, p.context)
            if span:
                found.append((p, span[0], span[1]))
        if found:
            return found
        # repair: the claim may be true of a passage the model did not cite
        best = None
        for p in self.evidence:
            span = best_span(text, p.text, unseen, self.question, ignore, p.context)
            if span and (best is None or span[2] > best[3]):
                best = (p, span[0], span[1], span[2])
        if best:
            self.stats["repaired"] += 1
            return [best[:3]]
        return []

    def check(self, claim: Claim) -> str | None:
        """The claim as final text with renumbered markers, or None if it must go."""
        self.stats["claims"] += 1
        if is_refusal(claim.text):
            self.stats["refusals"] += 1
            return None
        body_words = words(strip_markers(claim.text))
        if not body_words or body_words[-1] in UNFINISHED:  # "Iran's ambassador is [1]." says nothing
            self.stats["dropped"] += 1
            return None
        if not gives(expected(self.question), strip_markers(claim.text), self.question):
            self.stats["off_type"] += 1  # e.g. no figure in the answer to a "how many" question
            return None
        if restates(strip_markers(claim.text), self.question):
            self.stats["restated"] += 1  # "Islamabad's ambassador identified them" to "who is Islamabad's ambassador?"
            return None
        backed = self.supporting(claim)
        if not backed:
            self.stats["dropped"] += 1
            return None
        if not self.on_question(claim.text, backed):
            self.stats["off_question"] += 1  # true of the passage, but not an answer to this question
            return None
        said = " ".join(words(strip_markers(claim.text)))
        if said in self._said:
            self.stats["repeated"] += 1
            return None
        self._said.add(said)
        self.stats["kept"] += 1
        marks = "".join(f"[{self.cite(p, a, b)}]" for p, a, b in backed)
        return with_marks(strip_markers(claim.text).rstrip(",;:"), marks, claim.tail)

    def on_question(self, claim: str, backed: list[tuple[Passage, int, int]]) -> bool:
        """True when the claim and its quotes share enough of the question's weighted terms.

        They must also hold every name the question gives that the corpus never uses ("the UN
        Secretary-General"), or a synonym of it: a quote without it is about someone else.
        """
        if not self.idf:
            return True
        vocab = vocabulary(" ".join([strip_markers(claim)] + [p.text[a:b] for p, a, b in backed]))
        if not all(held(t, vocab, self.unseen) for t in unseen_names(self.question, self.unseen)):
            return False  # the question names someone the documents never mention: this is about another
        hit = sum(w for t, w in self._weights.items() if held(t, vocab, self.unseen))
        return hit >= ON_QUESTION * sum(self._weights.values())

    def spans(self) -> list[tuple[Passage, int, int]]:
        """The spans this verifier cited, as (passage, start, end) relative to their evidence passage."""
        out = []
        for source, start, end in self._numbers:
            p = next((e for e in self.evidence if e.source == source and e.start <= start and end <= e.end), None)
            if p is not None:
                out.append((p, start - p.start, end - p.start))
        return out

    def cite(self, p: Passage, a: int, b: int) -> int:
        """The citation number of ``p.text[a:b]``, adding it on first use."""
        key = (p.source, p.start + a, p.start + b)
        # the numbering may be shared with earlier parts of a compound question: reuse their number
        n = next((c.n for c in self.citations if (c.source, c.start, c.end) == key), None)
        if n is None:
            n = len(self.citations) + 1
            self.citations.append(
                Citation(n=n, source=p.source, quote=p.text[a:b], start=key[1], end=key[2], chunk_id=p.chunk_id,
                         title=p.title, page=p.page_at(a))
            )
        self._numbers[key] = n  # the spans this verifier cited (see spans())
        return n


_YES_NO = re.compile(r"^\W*(?:did|does|do|is|was|were|are|has|have|had|can|could|will|would|should)\b", re.IGNORECASE)


def restates(claim: str, question: str) -> bool:
    """True if ``claim`` says nothing the question does not already say (yes/no questions aside).

    "The official news agency that reported the visit was the official news agency of Iran" answers
    no "which agency?": every content word of it is the question's own.
    """
    if _YES_NO.match(question):
        return False
    return not set(normal_terms(claim)) - FILLER - set(normal_terms(question))
