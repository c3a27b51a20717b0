"""The model as a judge of one sentence: does it answer the question?

Consulted only where the lexical checks cannot decide: the question uses a word the corpus never
does ("lorries" where the articles say "trucks", "interim" for "caretaker"), so no quote can hold
it, yet the sentence may still answer. The local model reads the question and the one sentence and
its probability of replying "Yes" must reach a threshold calibrated on held-out questions for that
model (see README, "Corpus-unseen words"). A backend that cannot give that probability (a remote
server) or a preset with no calibrated threshold never vouches: the strict lexical rule stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from qa.answer.answer_type import MONTHS, TIME_WORDS, expected, gives, new_names
from qa.answer.prompts import judge_prompt
from qa.settings import Settings
from qa.text import fold

# P(Yes) a sentence needs, per preset. Qwen 1.5B, (question, sentence) pairs for the questions with
# corpus-unseen words: chosen on eval/qa_set.jsonl (0.75: 16 of 17 answerable questions have an answering
# sentence that reaches it, 0 of 8 unanswerable ones a sentence that does and gives the kind of answer asked;
# 0.8: 13 of 17), then checked on the held-out eval/dev_set.jsonl (0.75: 18 of 20 and 1 of 13; 0.8: 13 and 0).
VOUCH_THRESHOLDS = {"qwen1.5b": 0.75}

_MONTHS = "|".join(MONTHS.split())
_TIMES = re.compile(rf"\b(?:{'|'.join(sorted(TIME_WORDS))}|(?:19|20)\d\d|\d{{1,2}} (?:{_MONTHS})|(?:{_MONTHS}) \d{{1,2}})\b")


def threshold(settings: Settings) -> float:
    """The P(Yes) threshold in force: ``QA_VOUCH`` if set (0 = never vouch), else the preset's calibration."""
    if settings.vouch >= 0:
        return settings.vouch
    return VOUCH_THRESHOLDS.get(settings.llm_preset, 0.0) if settings.llm == "llamacpp" else 0.0


class SentenceJudge:
    """Does a sentence answer the question? The model's P(Yes) held to a threshold; calls are cached."""

    def __init__(self, score: Callable[[list[BaseMessage]], float], question: str, level: float) -> None:
        self._score = score
        self.question = question
        self.level = level
        self._cache: dict[str, float] = {}

    def probability(self, sentence: str) -> float:
        """The model's P(Yes) that ``sentence`` answers the question; 0 if it lacks the kind of answer asked."""
        if sentence not in self._cache:
            p = 0.0
            if adds_answer(self.question, sentence):
                p = self._score(judge_prompt().format_messages(question=self.question, sentence=sentence))
            self._cache[sentence] = p
        return self._cache[sentence]

    def __call__(self, sentence: str) -> bool:
        return self.probability(sentence) >= self.level

    def most_probable(self, sentences: list[str]) -> int | None:
        """Index of the sentence the model finds likeliest to answer, if it vouches for it (the first on ties)."""
        p = [self.probability(s) for s in sentences]
        best = max(range(len(p)), key=p.__getitem__, default=None)
        return best if best is not None and p[best] >= self.level else None


def sentence_judge(llm: BaseChatModel, settings: Settings, question: str) -> SentenceJudge | None:
    """A test "does this sentence answer ``question``?", or None when this model cannot be asked."""
    level = threshold(settings)
    score = getattr(llm, "yes_probability", None)
    if not 0 < level < 1 or score is None:
        return None
    return SentenceJudge(score, question, level)


def adds_answer(question: str, sentence: str) -> bool:
    """True if ``sentence`` holds the kind of answer asked for, beyond what the question itself says.

    Stricter than the general answer-type check, because the model's judgement is all that vouches
    here: "who" wants a name the question does not give; "when / what date" a time word or figure
    the question does not have ("last month" does not date an attack "last month").
    """
    if re.match(r"^\s*who(m|se)?\b", question, re.IGNORECASE):
        return bool(new_names(sentence, question))
    kind = expected(question)
    if kind == "time":  # a time word, a year, or a day of a month the question does not give
        asked = set(_TIMES.findall(fold(question)))
        return any(t not in asked for t in _TIMES.findall(fold(sentence)))
    return gives(kind, sentence, question)
