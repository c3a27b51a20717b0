"""Pick the few sentences worth showing the model: compact evidence keeps the prompt short.

Retrieved chunks are split into sentences; each sentence is scored against the question by dense
similarity and by IDF-weighted coverage of the question's terms. The best sentences, spread
across files, become the numbered passages ``[1]..[n]`` the model must cite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qa.answer.answer_type import expected, gives
from qa.components.embedding import embed, embed_cached
from qa.models import Passage
from qa.text import FILLER, has_term, terms, vocabulary, words

SAME_FILE_DECAY = 0.9
MIN_WORDS = 7  # a shorter sentence is joined with its successor so it carries context
# a sentence's document title and section heading say what it is about ("Mondays: closed" under "Opening
# hours" of the museum's page): this share of its lexical score counts them as its own words
CONTEXT_WEIGHT = 0.3
TYPE_BONUS = 0.05  # for a sentence giving the kind of answer asked for (a date to "when", a figure to "how many")


@dataclass(frozen=True)
class Scored:
    """A candidate evidence sentence and its relevance parts."""

    passage: Passage
    dense: float
    lexical: float
    prior: float = 0.0  # the rank of its chunk in the fused retrieval, scaled to [0, 1]
    fits: bool = False  # it gives the kind of answer the question asks for (a date for "when", ...)

    @property
    def score(self) -> float:
        """Combined relevance in roughly [0, 1]: the sentence itself, the chunk it sits in, and whether it
        gives the kind of answer asked for."""
        return 0.4 * self.dense + 0.4 * self.lexical + 0.2 * self.prior + TYPE_BONUS * self.fits


def split_sentences(chunks: list[Passage], section: Callable[[str, int], str] | None = None) -> list[Passage]:
    """Unique sentences (by file and offset) of the chunks, short ones merged with the next.

    ``section(source, offset)`` names the heading each sentence stands under (see
    :meth:`qa.retrieval.hybrid.BM25Index.section`).
    """
    from qa.text import sentence_spans

    seen: set[tuple[str, int]] = set()
    out: list[Passage] = []
    for chunk in chunks:
        spans = sentence_spans(chunk.text)
        i = 0
        while i < len(spans):
            s, e = spans[i]
            j = i
            while len(words(chunk.text[s:e])) < MIN_WORDS and j + 1 < len(spans):
                j += 1
                e = spans[j][1]
            i = j + 1
            key = (chunk.source, chunk.start + s)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Passage(chunk.source, chunk.title, chunk.text[s:e], chunk.start + s, chunk.start + e,
                        chunk.chunk_id, chunk.score, section(chunk.source, chunk.start + s) if section else "",
                        chunk.page_at(s))
            )
    return out


def idf_weights(idf: dict[str, float], query_terms: list[str]) -> dict[str, float]:
    """Weights for the query's terms; unseen terms get the highest weight (they are rare).

    Words about the documents themselves ("according to the articles") carry no weight when the
    corpus never uses them: they are how the question is asked, not what it asks about.
    """
    top = max(idf.values(), default=1.0)
    return {t: max(idf.get(t, top), 0.05) for t in dict.fromkeys(query_terms) if t in idf or t not in FILLER}


def lexical_coverage(weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of query terms present in ``text`` (see :func:`qa.text.has_term`)."""
    return vocabulary_coverage(weights, vocabulary(text))


def vocabulary_coverage(weights: dict[str, float], have: set[str]) -> float:
    """IDF-weighted share of query terms matching a word of ``have`` (a :func:`qa.text.vocabulary`)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for t, w in weights.items() if has_term(t, have)) / total


def score_sentences(query: str, sentences: list[Passage], idf: dict[str, float]) -> list[Scored]:
    """Score every sentence against the query (see :class:`Scored`, ``CONTEXT_WEIGHT``, ``TYPE_BONUS``)."""
    if not sentences:
        return []
    dense = embed_cached([s.text for s in sentences]) @ embed([query])[0]
    weights = idf_weights(idf, terms(query))
    top = max(s.score for s in sentences) or 1.0
    kind = expected(query)
    out = []
    contexts: dict[str, set[str]] = {}  # sentences of one section share their title and heading
    for s, d in zip(sentences, dense, strict=True):
        own = vocabulary(s.text)
        if s.context not in contexts:
            contexts[s.context] = vocabulary(s.context)
        lexical = (1 - CONTEXT_WEIGHT) * vocabulary_coverage(weights, own)
        lexical += CONTEXT_WEIGHT * vocabulary_coverage(weights, own | contexts[s.context])
        fits = kind is not None and gives(kind, s.text, query)
        out.append(Scored(s, float(np.clip(d, 0, 1)), lexical, s.score / top, fits))
    return out


def select(scored: list[Scored], n: int) -> list[Scored]:
    """Best ``n`` sentences with a per-file decay so that several files get a voice."""
    pool = list(scored)
    chosen: list[Scored] = []
    per_file: dict[str, int] = {}
    while pool and len(chosen) < n:
        best = max(pool, key=lambda s: s.score * SAME_FILE_DECAY ** per_file.get(s.passage.source, 0))
        pool.remove(best)
        per_file[best.passage.source] = per_file.get(best.passage.source, 0) + 1
        chosen.append(best)
    return chosen


def windows(chosen: list[Scored], chunks: list[Passage], budget_tokens: int, radius: int = 1) -> list[Passage]:
    """Numbered evidence: each chosen sentence with ``radius`` neighbours from its chunk.

    Windows in the same chunk that touch are merged. Passages come in order of their best
    sentence's score, and their total stays within ``budget_tokens``. ``text == file[start:end]``.
    """
    from qa.ingest.chunker import count_tokens
    from qa.text import sentence_spans

    by_id = {c.chunk_id: c for c in chunks}
    spans: list[list] = []  # [chunk, first sentence idx, last idx, score]
    for c in chosen:
        chunk = by_id[c.passage.chunk_id]
        sents = sentence_spans(chunk.text)
        rel = c.passage.start - chunk.start
        i = next((j for j, (a, _) in enumerate(sents) if a == rel), None)
        if i is None:
            continue
        j = i
        while j + 1 < len(sents) and sents[j][1] < c.passage.end - chunk.start:
            j += 1
        lo, hi = max(0, i - radius), min(len(sents) - 1, j + radius)
        for span in spans:
            if span[0] is chunk and lo <= span[2] + 1 and hi >= span[1] - 1:
                span[1], span[2] = min(span[1], lo), max(span[2], hi)
                break
        else:
            spans.append([chunk, lo, hi, c.score, c.passage.section])
    out: list[Passage] = []
    covered: list[tuple[str, int, int]] = []
    used = 0
    for chunk, lo, hi, score, section in spans:
        sents = sentence_spans(chunk.text)
        a, b = sents[lo][0], sents[hi][1]
        start, end = chunk.start + a, chunk.start + b
        if any(src == chunk.source and start < e0 and s0 < end for src, s0, e0 in covered):
            continue
        text = chunk.text[a:b]
        cost = count_tokens(text)
        if out and used + cost > budget_tokens:
            continue
        used += cost
        covered.append((chunk.source, start, end))
        out.append(Passage(chunk.source, chunk.title, text, start, end, chunk.chunk_id, round(score, 4), section,
                           chunk.page_at(a)))
    return out


def relevance(scored: list[Scored]) -> float:
    """How relevant the best evidence is (0 when there is none)."""
    return max((s.score for s in scored), default=0.0) if scored else 0.0
