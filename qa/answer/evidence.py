"""Evidence: the few sentences of the retrieved chunks worth showing the reader, numbered.

Every sentence of the retrieved chunks is scored against the question by dense similarity (MiniLM)
and by IDF-weighted coverage of the question's stemmed terms, its document title and section heading
counting for a share. The best, spread across files and within
a token budget, are shown grouped by document in reading order, so neighbours read as a paragraph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from qa.answer.policy import Policy
from qa.components.embedding import embed, embed_cached
from qa.ingest.chunker import count_tokens
from qa.models import Passage
from qa.text import sentence_spans, terms


def sentences(chunks: list[Passage], section: Callable[[str, int], str] | None = None) -> list[Passage]:
    """The sentences of ``chunks``, once each (chunks overlap), with their section heading and page."""
    seen: set[tuple[str, int]] = set()
    out = []
    for c in chunks:
        for a, b in sentence_spans(c.text):
            if (c.source, c.start + a) in seen:
                continue
            seen.add((c.source, c.start + a))
            out.append(Passage(c.source, c.title, c.text[a:b], c.start + a, c.start + b, c.chunk_id, c.score,
                               section(c.source, c.start + a) if section else "", c.page_at(a)))
    return out


def coverage(weights: Mapping[str, float], have: set[str]) -> float:
    """IDF-weighted share of the weighted terms found in ``have``."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0


def rank(query: str, candidates: list[Passage], idf: Mapping[str, float], policy: Policy) -> list[tuple[float, Passage]]:
    """``(score, sentence)`` best first: dense similarity and lexical coverage weighed by the policy, 0..1."""
    if not candidates:
        return []
    dense = np.clip(embed_cached([s.text for s in candidates]) @ embed([query])[0], 0, 1)
    top = max(idf.values(), default=1.0)
    weights = {t: idf.get(t, top) for t in set(terms(query))}
    scored = []
    for s, d in zip(candidates, dense, strict=True):
        own = set(terms(s.text))
        lexical = (1 - policy.context_weight) * coverage(weights, own)
        lexical += policy.context_weight * coverage(weights, own | set(terms(s.context)))
        scored.append((policy.dense_weight * float(d) + (1 - policy.dense_weight) * lexical, s))
    return sorted(scored, key=lambda x: (-x[0], x[1].source, x[1].start))


def is_heading(p: Passage) -> bool:
    """The sentence is its section's title: shown above the section's sentences anyway, it states nothing."""
    return bool(p.section) and " ".join(p.text.strip("# ").split()) == " ".join(p.section.split())


def choose(ranked: list[tuple[float, Passage]], policy: Policy) -> tuple[list[Passage], list[Passage]]:
    """The best sentences within the policy's budget, each further one of a file counting a little less, and
    the best of those within ``policy.first_tokens`` (0: all), read first (see the pipeline); each shown
    grouped by file (best file first) in reading order. A heading, or a sentence whose words were already
    chosen elsewhere ("pip install ..." in four places), takes no place."""
    pool, chosen, lead, per_file, used, led, seen = list(ranked), [], [], {}, 0, 0, set()
    while pool and len(chosen) < policy.evidence_sentences:
        i = max(range(len(pool)), key=lambda j: pool[j][0] * policy.same_file_decay ** per_file.get(pool[j][1].source, 0))
        score, s = pool.pop(i)
        cost, said = count_tokens(s.text), " ".join(s.text.lower().split())
        if (chosen and used + cost > policy.evidence_tokens) or said in seen or is_heading(s):
            continue
        seen.add(said)
        used += cost
        per_file[s.source] = per_file.get(s.source, 0) + 1
        chosen.append(Passage(s.source, s.title, s.text, s.start, s.end, s.chunk_id, round(score, 4), s.section, s.page))
        if not policy.first_tokens or not lead or led + cost <= policy.first_tokens:
            lead.append(chosen[-1])
            led += cost
    return in_reading_order(chosen), in_reading_order(lead)


def in_reading_order(chosen: list[Passage]) -> list[Passage]:
    """Sentences grouped by file, best file first, each file's in reading order."""
    files = list(dict.fromkeys(s.source for s in chosen))
    return sorted(chosen, key=lambda s: (files.index(s.source), s.start))


def render(evidence: list[Passage]) -> str:
    """The numbered sentences as the reader sees them, under their document's title and section."""
    lines: list[str] = []
    source = section = None
    for i, p in enumerate(evidence, 1):
        if p.source != source:
            source, section = p.source, None
            lines.append(f"Document: {p.title or p.source}")
        if p.section and p.section not in (section, p.title):
            section = p.section
            lines.append(f"Section: {section}")
        lines.append(f"[{i}] {' '.join(p.text.split())}")
    return "\n".join(lines)
