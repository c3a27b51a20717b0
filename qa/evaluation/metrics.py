"""Pure metric functions: retrieval, answer correctness, citations, groundedness, refusal, latency."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.dataset import fact_matches, indexed_text
from qa.text import content_words, sentence_spans

MARKERS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
# Document markup that leaked into an answer: Markdown images and badges, Markdown links to a URL or path,
# HTML tags, and bare reference definitions ("[label]: https://...") at the start of a line.
MARKUP = re.compile(
    r"!\[|\]\((?:https?:|ftp:|mailto:|www\.|\.{0,2}/|#)"
    r"|<(?:img|a|p|div|br)(?=[\s>/])|</\s*[a-z]"
    r"|^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*<?(?:[a-z][a-z0-9+.-]*://|www\.|/|#)",
    re.IGNORECASE | re.MULTILINE,
)


def distinct(files: Sequence[str]) -> list[str]:
    """Files in order of first appearance."""
    return list(dict.fromkeys(files))


def hit_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """1.0 if any of the first k distinct files is gold."""
    return float(any(f in gold for f in distinct(ranked)[:k]))


def recall_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Share of gold files among the first k distinct files."""
    return len(set(distinct(ranked)[:k]) & gold) / len(gold) if gold else 0.0


def mrr(ranked: Sequence[str], gold: set[str]) -> float:
    """Reciprocal rank of the first gold file."""
    for i, f in enumerate(distinct(ranked), 1):
        if f in gold:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Binary-relevance nDCG over distinct files."""
    files = distinct(ranked)[:k]
    dcg = sum(1.0 / math.log2(i + 1) for i, f in enumerate(files, 1) if f in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def facts_present(answer: str, facts: Sequence[str]) -> bool:
    """All required facts occur in the answer."""
    return all(fact_matches(f, answer) for f in facts)


def conflict_account(answer: str, facts: Sequence[str], quotes: Sequence[str]) -> bool:
    """Every account (fact) is in the answer and in the quote of at least one of the answer's citations."""
    return bool(facts) and all(
        fact_matches(f, answer) and any(fact_matches(f, q) for q in quotes) for f in facts
    )


def has_markup(text: str) -> bool:
    """The text carries document markup (Markdown image/link/badge, HTML tag, reference definition)."""
    return MARKUP.search(text) is not None


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", MARKERS.sub("", text).lower())


def token_f1(answer: str, reference: str) -> float:
    """SQuAD-style token F1."""
    a, r = _tokens(answer), _tokens(reference)
    if not a or not r:
        return float(a == r)
    common = sum(min(a.count(t), r.count(t)) for t in set(a) & set(r))
    if not common:
        return 0.0
    p, rec = common / len(a), common / len(r)
    return 2 * p * rec / (p + rec)


def citation_pr(cited: Sequence[str], gold: set[str]) -> tuple[float, float]:
    """File-level precision and recall of cited files against gold."""
    files = set(cited)
    if not files:
        return 0.0, 0.0
    return len(files & gold) / len(files), (len(files & gold) / len(gold) if gold else 0.0)


def phantom_count(citations: Sequence[dict], corpus: Path) -> int:
    """Citations whose quote is not exactly ``text[start:end]`` of their file (or whose file is not in the corpus).

    The text of a file is what the loader reads from it: the file itself, or an HTML page's text.
    """
    bad = 0
    cache: dict[str, str | None] = {}
    for c in citations:
        src = str(c["source"])
        if src not in cache:
            try:
                cache[src] = indexed_text(corpus / src, corpus)
            except QAError:
                cache[src] = None
        text = cache[src]
        if text is None or text[int(c["start"]) : int(c["end"])] != c["quote"]:
            bad += 1
    return bad


def grounded_share(answer: str, citations: Sequence[dict], similar: Callable[[str, str], float]) -> float:
    """Share of answer sentences whose cited quotes support them: lexical coverage >= 0.5 or cosine >= 0.6."""
    by_n = {int(c["n"]): str(c["quote"]) for c in citations}
    sentences = [answer[s:e] for s, e in sentence_spans(answer)]
    if not sentences:
        return 0.0
    good = 0
    for sentence in sentences:
        quotes = [by_n[int(n)] for n in re.findall(r"\[(\d+)\]", sentence) if int(n) in by_n]
        claim = MARKERS.sub("", sentence).strip()
        if not quotes or not claim:
            continue
        words = set(content_words(claim))
        quote_words = set(content_words(" ".join(quotes)))
        lexical = len(words & quote_words) / len(words) if words else 0.0
        if lexical >= 0.5 or max(similar(claim, q) for q in quotes) >= 0.6:
            good += 1
    return good / len(sentences)


def refusal_scores(refused: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float]:
    """Precision/recall of refusals on unanswerables, and the false-refusal rate on answerables."""
    tp = sum(r and not a for r, a in zip(refused, answerable, strict=True))
    fp = sum(r and a for r, a in zip(refused, answerable, strict=True))
    n_un = sum(not a for a in answerable)
    n_ans = sum(answerable)
    return {
        "refusal_precision": tp / (tp + fp) if tp + fp else 0.0,
        "refusal_recall": tp / n_un if n_un else 0.0,
        "false_refusal": fp / n_ans if n_ans else 0.0,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
