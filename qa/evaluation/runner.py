"""Run a pipeline over the QA set and score every item."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.evaluation import metrics as m
from qa.evaluation.dataset import Item
from qa.models import Answer

K_RETRIEVAL = 5


@dataclass
class ItemResult:
    """Scores of one item."""

    id: str
    type: str
    question: str
    answerable: bool
    answer: str = ""
    refused: bool = False
    cited: list[str] = field(default_factory=list)
    correct: bool = False
    f1: float = 0.0
    cite_precision: float = 0.0
    cite_recall: float = 0.0
    cites_gold: bool = False
    phantom: int = 0
    grounded: float = 0.0
    hit: float = 0.0
    recall_k: float = 0.0
    mrr: float = 0.0
    ndcg: float = 0.0
    seconds: float = 0.0
    first_token: float | None = None
    passed: bool = False
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return asdict(self)


def score(item: Item, answer: Answer, ranked_files: list[str], corpus: Path,
          similar: Callable[[str, str], float]) -> ItemResult:
    """All metrics of one answered item."""
    gold = set(item.gold)
    cites = [asdict(c) for c in answer.citations]
    cited = [c.source for c in answer.citations]
    r = ItemResult(item.id, item.type, item.question, item.answerable, answer.text, answer.refused, m.distinct(cited))
    r.phantom = m.phantom_count(cites, corpus) + sum(1 for c in answer.citations if c.n < 1 or c.n > len(cites))
    r.seconds = float(answer.timings.get("total", 0.0))
    r.first_token = answer.timings.get("first_token")
    if item.answerable:
        r.correct = not answer.refused and m.facts_present(answer.text, item.facts)
        r.f1 = m.token_f1(answer.text, item.reference)
        r.cite_precision, r.cite_recall = m.citation_pr(cited, gold)
        r.cites_gold = bool(set(cited) & gold)
        r.grounded = m.grounded_share(answer.text, cites, similar) if not answer.refused else 0.0
        r.hit = m.hit_at_k(ranked_files, gold, K_RETRIEVAL)
        r.recall_k = m.recall_at_k(ranked_files, gold, K_RETRIEVAL)
        r.mrr = m.mrr(ranked_files, gold)
        r.ndcg = m.ndcg_at_k(ranked_files, gold, K_RETRIEVAL)
        r.passed = r.correct and r.cites_gold and set(cited) <= gold and r.phantom == 0
    else:
        r.passed = answer.refused and r.phantom == 0
    return r


def run_items(items: list[Item], ask: Callable[[Item], Answer], rank: Callable[[str], list[str]], corpus: Path,
              similar: Callable[[str, str], float]) -> list[ItemResult]:
    """Answer and score every item; an exception is recorded as a failed item, never raised."""
    results = []
    for item in items:
        t0 = time.perf_counter()
        try:
            answer = ask(item)
            result = score(item, answer, rank(item.question) if item.answerable else [], corpus, similar)
        except Exception as exc:  # noqa: BLE001 - one bad item must not end the run
            result = ItemResult(item.id, item.type, item.question, item.answerable, error=f"{type(exc).__name__}: {exc}")
        print(f"{item.id:<12} {'pass' if result.passed else 'FAIL'} {time.perf_counter() - t0:5.1f}s "
              f"{'refused' if result.refused else result.answer[:70]!r}", file=sys.stderr, flush=True)
        results.append(result)
    return results


def aggregate(results: list[ItemResult]) -> dict[str, float]:
    """Aggregate metrics over a list of item results."""
    ans = [r for r in results if r.answerable]
    answered = [r for r in ans if not r.refused]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    out = {
        "n": float(len(results)),
        "pass_rate": mean([float(r.passed) for r in results]),
        "answer_correct": mean([float(r.correct) for r in ans]),
        "correct_with_gold_citation": mean([float(r.correct and r.cites_gold) for r in ans]),
        "token_f1": mean([r.f1 for r in ans]),
        "citation_precision": mean([r.cite_precision for r in answered]),
        "citation_recall": mean([r.cite_recall for r in answered]),
        "grounded": mean([r.grounded for r in answered]),
        "phantom_citations": float(sum(r.phantom for r in results)),
        "hit_at_5": mean([r.hit for r in ans]),
        "recall_at_5": mean([r.recall_k for r in ans]),
        "mrr": mean([r.mrr for r in ans]),
        "ndcg_at_5": mean([r.ndcg for r in ans]),
        "latency_p50": m.percentile([r.seconds for r in results], 0.5),
        "latency_p95": m.percentile([r.seconds for r in results], 0.95),
        "first_token_p50": m.percentile([r.first_token for r in results if r.first_token is not None], 0.5),
        "errors": float(sum(1 for r in results if r.error)),
    }
    out.update(m.refusal_scores([r.refused for r in results], [r.answerable for r in results]))
    return out
