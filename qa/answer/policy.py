"""Every threshold of the answer pipeline in one object, each with what it decides.

The pipeline asks one question of a reader (:mod:`qa.answer.reader`): which of these sentences answer
the question, and how would you put it? Everything it then decides by number is here, so readers
(the local model, a remote model, the lexical picker) are compared on the same sets under one policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.settings import Settings


@dataclass(frozen=True)
class Policy:
    """Thresholds and budgets of one answer."""

    # evidence: the numbered sentences the reader may see; the first reading's length sets the time to the first word
    evidence_tokens: int = 300  # tiktoken tokens of sentences shown (titles and headings come on top)
    evidence_sentences: int = 14  # at most this many sentences
    # the reader first reads only the best of them within first_tokens (0: all at once); it reads them all
    # when its probability that none of those answers reaches widen_at, or when nothing it says from them stands
    first_tokens: int = 100
    widen_at: float = 0.25
    lead_judge_at: float = 0.5  # what the judge must give an answer from those alone (a wider reading follows)
    same_file_decay: float = 0.85  # each further sentence of an already chosen file counts this much less
    # a sentence's score: this share of its dense similarity to the question, the rest its lexical coverage,
    # of which its document title and section heading carry context_weight (bench: evidence recall sweep)
    dense_weight: float = 0.4
    context_weight: float = 0.5
    # nothing relevant: refuse without asking the model when the best sentence scores below this
    min_relevance: float = 0.15
    # the reader's probability that no sentence answers, at or above which its answer is a refusal (1: only
    # its own words can decline)
    refuse_at: float = 0.5
    # the reader's judge (the local model's P(Yes) that a quote answers the question) must reach this for the
    # quote to stand; 0: no judge, the grounding checks alone decide
    judge_at: float = 0.4
    # a claim in the reader's own words stands when its quotes hold all its names and figures and this
    # share of its other content words (the words it adds to the question); else the sentence itself is quoted
    min_support: float = 0.5
    # ... and the sentence it comes from is quoted when it holds at least this share of those words
    min_quote_share: float = 0.3
    name_similarity: float = 88.0  # rapidfuzz ratio at which two spellings are one name (Balochistan/Baluchistan)
    # another account: a sentence giving a name or figure the answer lacks, scoring at least this share of
    # the best cited sentence's score, is quoted when the judge's P(Yes) that it answers the question reaches
    # account_judge_at (an addition the answer can do without clears a higher bar than the answer itself);
    # with no judge, only another file's sentence giving a figure the answer lacks, scoring account_ratio_alone
    account_ratio: float = 0.8
    account_judge_at: float = 0.65
    account_ratio_alone: float = 0.9
    max_accounts: int = 2
    answer_tokens: int = 80  # what the reader may write

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        """The policy with the settings' overrides applied. A probability threshold is a calibration of one
        model: only the preset it was measured on (CALIBRATED) refuses or judges by probability by default."""
        refuse_at, judge_at, widen_at = CALIBRATED.get(s.llm_preset, UNCALIBRATED) if s.llm == "llamacpp" else UNCALIBRATED
        return cls(evidence_tokens=s.evidence_tokens, evidence_sentences=s.evidence_sentences,
                   first_tokens=s.first_evidence_tokens, widen_at=widen_at,
                   refuse_at=s.refuse_at if s.refuse_at >= 0 else refuse_at,
                   judge_at=s.judge_at if s.judge_at >= 0 else judge_at, answer_tokens=s.max_answer_tokens)


# (refuse_at, judge_at, widen_at) per preset, chosen on the evaluation sets' dev halves (docs/RESULTS.md, stops 19
# and 25); any other model refuses, and reads all the evidence, only when its own words decline, and is not judged
CALIBRATED = {"qwen1.5b": (Policy.refuse_at, Policy.judge_at, Policy.widen_at)}
UNCALIBRATED = (1.0, 0.0, 1.0)
