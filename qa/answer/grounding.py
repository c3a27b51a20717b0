"""The grounding contract: an answer says only what the sentences it cites say.

The reader picks sentences and words an answer; the code keeps only what is certain. A claim in
the reader's words stands when the sentences it cites hold every name and figure in it and most of
the words it adds to the question; it is cited to the fewest chosen sentences that do. Failing
that, the chosen sentence itself is quoted. A claim about the evidence rather than the subject
("the sentences say ...") is never shown: the sentence it comes from is; a claim that negates where
its quote does not ("the passage does not say ...") is a decline. Every citation is the exact indexed
text of the sentence it numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import combinations

from rapidfuzz import fuzz

from qa.answer.citations import Citations, marked
from qa.answer.policy import Policy
from qa.answer.prompts import template_text
from qa.models import Passage
from qa.text import names, numbers, stem, terms, words

# how the reader's prompt names the evidence: an answer using these words (its quotes do not) talks about
# the evidence, not the subject
ABOUT_EVIDENCE = frozenset(stem(w) for w in "sentence passage context document excerpt".split())
NEGATIONS = frozenset("no not none nothing never neither nor cannot".split())
REPLY = re.compile(r"^\s*(?:yes|no)\b[,.;:]?\s*", re.IGNORECASE)  # the reply to a yes/no question opening a claim


@cache
def prompt_terms() -> frozenset[str]:
    """Words the reader's prompt uses: a claim repeating them ("the sentences indicate ...") states no fact."""
    return frozenset(terms(template_text("reader_system") + template_text("reader_user")))


def _names_held(claim: str, have: set[str], policy: Policy) -> bool:
    """Every name of ``claim`` is a word of ``have``, or a spelling of one (Balochistan/Baluchistan)."""
    return all(
        n in have or (len(n) >= 5 and any(len(w) >= 5 and fuzz.ratio(n, w) >= policy.name_similarity for w in have))
        for n in names(claim)
    )


@dataclass(frozen=True)
class Backed:
    """Answer text and the evidence sentences that back it."""

    text: str
    quotes: list[Passage]
    prefix: str = ""  # "Another account: " for a quoted sentence that adds to the answer


class Grounder:
    """Checks the reader's claims against the sentences it chose, and numbers what it cites."""

    def __init__(self, question: str, evidence: list[Passage], policy: Policy, chunks: dict[str, str] | None = None) -> None:
        self.question = question
        self.evidence = evidence
        self.policy = policy
        self.chunks = chunks or {}  # chunk id → text: where a quote stands
        self.citations = Citations()
        self.stats: dict[str, int] = {"claims": 0, "kept": 0, "repaired": 0, "quoted": 0, "dropped": 0, "declined": 0,
                                      "judged": 0, "unjudged": 0, "accounts": 0}
        self._said: list[str] = []  # what the answer has said

    def share(self, claim: str, quotes: list[Passage]) -> float:
        """Share of the words ``claim`` adds to the question that ``quotes`` hold (0 for a bare restatement)."""
        new = self.adds(claim)
        return len(new & set(terms(" ".join(p.text for p in quotes)))) / len(new) if new else 0.0

    def adds(self, claim: str) -> set[str]:
        """The terms ``claim`` adds to the question, leaving out a yes/no reply and the prompt's own words."""
        return set(terms(REPLY.sub("", claim))) - set(terms(self.question)) - prompt_terms()

    def holds(self, claim: str, quotes: list[Passage]) -> bool:
        """The quotes give every figure of ``claim`` and every name: in their own words, their document's title
        or section heading, or, for a name the question gives, the passage they stand in."""
        said = " ".join(p.text for p in quotes)
        if not numbers(claim) <= numbers(said):
            return False
        have = set(words(" ".join([said, *(p.context for p in quotes)])))
        around = set(words(" ".join(self.chunks.get(p.chunk_id, "") for p in quotes))) & set(words(self.question))
        return _names_held(claim, have | around, self.policy)

    def about_evidence(self, claim: str, quotes: list[Passage]) -> bool:
        """True if ``claim`` names the evidence ("the sentences say ...") where its quotes do not."""
        have = set(words(" ".join(p.text for p in quotes)))
        return any(stem(w) in ABOUT_EVIDENCE for w in words(claim) if w not in have)

    def declines(self, claim: str, quotes: list[Passage]) -> bool:
        """True if ``claim`` says there is no answer: it negates where its quotes do not."""
        have = set(words(" ".join(p.text for p in quotes)))
        return any(w in NEGATIONS or w.endswith("n't") for w in words(REPLY.sub("", claim)) if w not in have)

    def claim(self, sentence: str, cited: list[Passage]) -> Backed | None:
        """``sentence`` of the reader's answer with the sentences that back it, or None.

        It is backed by the fewest of the sentences it cites that hold it, else by another evidence sentence
        that does (the model misnumbered). Else, when its words come from a sentence but its names, figures
        or wording stray, when it only points at a sentence ("the option is [5]"), or when it talks about the
        evidence ("the sentences say that ..."), the sentence it comes from is quoted instead. A claim that
        says there is no answer is a decline.
        """
        self.stats["claims"] += 1
        if not sentence.strip(" ."):
            return None
        if self.declines(sentence, cited):
            self.stats["declined"] += 1
            return None
        groups = [[p] for p in cited] + [list(pair) for pair in combinations(cited, 2)]
        own = len(groups)
        groups += [[p] for p in self.evidence if p not in cited]
        shares = [self.share(sentence, g) for g in groups]
        backed = [i for i, g in enumerate(groups) if shares[i] >= self.policy.min_support and self.holds(sentence, g)]
        if backed and not self.about_evidence(sentence, groups[backed[0]]):
            best = max(backed, key=lambda i: (i < own, shares[i], -len(groups[i]), -i))
            self.stats["kept" if best < own else "repaired"] += 1
            return Backed(sentence, groups[best])
        pointed = cited[:1] if cited and not self.adds(sentence) else []
        singles = [g for i, g in enumerate(groups) if len(g) == 1 and shares[i] >= self.policy.min_quote_share]
        source = pointed or (singles[0] if singles else [])
        if source:
            self.stats["quoted"] += 1
            return Backed(source[0].text, source)
        self.stats["dropped"] += 1
        return None

    def accounts(self, judged: bool) -> list[Backed]:
        """Candidate further accounts, best first: sentences nearly as relevant as the ones cited that give a
        name or figure the answer lacks (sources disagree about a toll, a place, who said it). ``judged``: each
        will be judged; else only another file's sentence giving a different figure, scoring closer, is one."""
        if not self.citations.items:
            return []
        cited = {c.source for c in self.citations.items}
        quoted = {(c.source, c.start) for c in self.citations.items}
        ratio = self.policy.account_ratio if judged else self.policy.account_ratio_alone
        floor = ratio * max(p.score for p in self.evidence if p.source in cited)
        said = " ".join([self.question, *self._said])
        out = []
        for p in sorted(self.evidence, key=lambda p: -p.score):
            adds = numbers(p.text) - numbers(said) or (judged and names(p.text) - set(words(said)))
            if p.score < floor or (p.source, p.start) in quoted or not adds:  # (evidence holds no heading)
                continue
            if judged or p.source not in cited:
                cited.add(p.source)
                out.append(Backed(p.text, [p], "Another account: "))
        return out

    def say(self, backed: Backed) -> str | None:
        """The text with its quotes' numbers, once: a repeat of what the answer said is dropped."""
        folded = words(backed.text)
        if not folded or any(words(s) == folded for s in self._said):
            return None
        self._said.append(backed.text)
        self.stats["accounts"] += bool(backed.prefix)
        return backed.prefix + marked(backed.text, [self.citations.number(p) for p in backed.quotes])
