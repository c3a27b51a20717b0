"""Answer with a sentence quoted verbatim: where the model only points ("[3]"), or declines although
one evidence sentence plainly answers the question.

The sentence is quoted verbatim, so it is grounded by construction; it still has to be about the
question: it must give the kind of answer asked for, hold the question's words the corpus
otherwise never uses (or their synonyms), and cover most of the question's weighted terms.
"""

from __future__ import annotations

from qa.answer.answer_type import expected, gives
from qa.answer.evidence import idf_weights, lexical_coverage
from qa.answer.judge import SentenceJudge
from qa.answer.support import held, main_clause, strict_tokens, unseen_names, without_unseen
from qa.models import Passage
from qa.text import quoted_sentences, terms, vocabulary

MIN_QUESTION_COVERAGE = 0.5
JUDGED_COVERAGE = 0.3  # the model declined or pointed astray: sentences covering this much may be put to the judge
JUDGED = 1  # at most this many sentences are put to the judge per search


def pointed_sentence(
    question: str,
    passages: list[Passage],
    idf: dict[str, float],
    min_coverage: float = MIN_QUESTION_COVERAGE,
    unseen: dict[str, set[str]] | None = None,
    vouch: SentenceJudge | None = None,
    judged_coverage: float | None = None,
    judged: int = JUDGED,
) -> tuple[Passage, int, int] | None:
    """The best sentence of ``passages`` answering ``question`` as (passage, start, end), or None.

    With ``unseen`` (see :func:`qa.answer.support.coverage`), the sentence must also hold each of
    the question's words that the corpus otherwise never uses, or one of their synonyms. Failing
    that, with ``vouch``, a sentence in doubt will do if the model vouches that it answers the
    question: one lacking only such words (not names), or, with ``judged_coverage``, one covering
    at least that much of the question though less than ``min_coverage`` (not for questions asking
    who holds a role or how many). At most ``judged`` such sentences, the best covering, are put to
    the model; of those it vouches for, the one it finds most probable is taken.
    """
    kind = expected(question)
    # words the corpus never uses outside the main clause only set the scene ("Apart from Washington, ..."):
    # no sentence can hold them, so they do not count against any
    main = set(terms(main_clause(question)))
    weights = {t: w for t, w in idf_weights(idf, terms(question)).items() if t in idf or t in main}
    asked = set(terms(question))
    named = strict_tokens(question) | asked
    names = set(unseen_names(question, unseen)) if unseen else set()
    # a sentence lacking the unseen words is measured on the rest of the question: the model vouches for them
    rest = without_unseen(weights, set(unseen or {}) - names)
    # not for "who is the <role>" or "how many": the model vouches for sentences about the role that name no
    # holder, and for figures that count something else ("killed 85" for "how many were injured")
    floor = min_coverage
    if vouch is not None and judged_coverage is not None and kind not in ("name", "number"):
        floor = min(min_coverage, judged_coverage)
    best: tuple[Passage, int, int, tuple[float, int]] | None = None
    doubtful: list[tuple[tuple[float, int], Passage, int, int]] = []  # answers only if the model vouches
    for p in passages:
        for a, b in quoted_sentences(p.text):
            sentence = p.text[a:b]
            if not gives(kind, sentence, question):
                continue
            if len(set(terms(sentence)) - asked) < 2:  # it must add something to the question
                continue
            vocab = vocabulary(sentence)
            lacks = bool(unseen) and not all(held(t, vocab, unseen) for t in unseen)
            if lacks and not (vouch and all(held(t, vocab, unseen) for t in names)):
                continue
            cov = lexical_coverage(rest if lacks else weights, sentence)
            if cov < floor:
                continue
            # among equally covering sentences, the one naming most that the question does not
            rank = (round(cov, 6), len(strict_tokens(sentence) - named))
            if lacks or cov < min_coverage:
                doubtful.append((rank, p, a, b))
            elif best is None or rank > best[3]:
                best = (p, a, b, rank)
    if best is None and vouch:  # the most probable answer among the best covering doubtful sentences
        put = [(p, a, b) for _, p, a, b in sorted(doubtful, key=lambda d: d[0], reverse=True)[:judged]]
        i = vouch.most_probable([p.text[a:b] for p, a, b in put])
        if i is not None:
            return put[i]
    return best[:3] if best else None
