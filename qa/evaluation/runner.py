"""Run a pipeline over the QA set and score every item."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.evaluation import metrics as m
from qa.evaluation.dataset import UNSPLIT, Item
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
    split: str = UNSPLIT
    conflict_account: bool | None = None  # answerable conflict items only
    markup: bool = False
    prompt_tokens: float | None = None  # Answer.timings["prompt_tokens"], when the pipeline reports it
    model_calls: float | None = None
    quotes: list[str] = field(default_factory=list)  # the citations' quotes, in the answer's order

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return asdict(self)


def score(item: Item, answer: Answer, ranked_files: list[str], corpus: Path,
          similar: Callable[[str, str], float]) -> ItemResult:
    """All metrics of one answered item."""
    gold = set(item.gold)
    cites = [asdict(c) for c in answer.citations]
    cited = [c.source for c in answer.citations]
    r = ItemResult(item.id, item.type, item.question, item.answerable, answer.text, answer.refused, m.distinct(cited),
                   split=item.split_label)
    r.markup = m.has_markup(answer.text)
    r.quotes = [c.quote for c in answer.citations]
    r.prompt_tokens = _number(answer.timings.get("prompt_tokens"))
    r.model_calls = _number(answer.timings.get("model_calls"))
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
        if item.type == "conflict":
            r.conflict_account = not answer.refused and m.conflict_account(
                answer.text, item.facts, [c.quote for c in answer.citations])
    else:
        r.passed = answer.refused and r.phantom == 0
    return r


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def run_items(items: list[Item], ask: Callable[[Item], Answer], rank: Callable[[str], list[str]], corpus: Path,
              similar: Callable[[str, str], float], label: str = "qa eval", verbose: bool = False,
              progress: bool = True) -> list[ItemResult]:
    """Answer and score every item; an exception is recorded as a failed item, never raised.

    A progress bar on stderr shows the item id and the running pass rate; ``verbose`` adds one line per item.
    """
    from tqdm import tqdm

    results: list[ItemResult] = []
    bar = tqdm(items, desc=label, unit="q", file=sys.stderr, disable=not progress, dynamic_ncols=True,
               mininterval=0.5 if sys.stderr.isatty() else 30.0)
    for item in bar:
        bar.set_postfix_str(item.id, refresh=False)
        t0 = time.perf_counter()
        try:
            answer = ask(item)
            result = score(item, answer, rank(item.question) if item.answerable else [], corpus, similar)
        except Exception as exc:  # noqa: BLE001 - one bad item must not end the run
            result = ItemResult(item.id, item.type, item.question, item.answerable, error=f"{type(exc).__name__}: {exc}",
                                split=item.split_label)
        results.append(result)
        passed = sum(r.passed for r in results)
        bar.set_postfix_str(f"{item.id} pass {passed}/{len(results)} = {passed / len(results):.2f}", refresh=False)
        if verbose:
            line = (f"{item.id:<12} {'pass' if result.passed else 'FAIL'} {time.perf_counter() - t0:5.1f}s "
                    f"{result.error or ('refused' if result.refused else result.answer[:70])!r}")
            tqdm.write(line, file=sys.stderr)
    bar.close()
    return results


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _pct(values: list[float], q: float) -> float | None:
    return m.percentile(values, q) if values else None


def aggregate(results: list[ItemResult]) -> dict[str, float | None]:
    """Aggregate metrics over a list of item results; ``None`` where no item measures the metric."""
    ans = [r for r in results if r.answerable]
    unans = [r for r in results if not r.answerable]
    answered = [r for r in ans if not r.refused]
    conflicts = [r for r in ans if r.conflict_account is not None]
    timed = [r for r in results if not r.error]
    out: dict[str, float | None] = {
        "n": float(len(results)),
        "pass_rate": _mean([float(r.passed) for r in results]),
        "answer_correct": _mean([float(r.correct) for r in ans]),
        "correct_with_gold_citation": _mean([float(r.correct and r.cites_gold) for r in ans]),
        "token_f1": _mean([r.f1 for r in ans]),
        "citation_precision": _mean([r.cite_precision for r in answered]),
        "citation_recall": _mean([r.cite_recall for r in answered]),
        "grounded": _mean([r.grounded for r in answered]),
        "phantom_citations": float(sum(r.phantom for r in results)),
        "conflict_accounts": _mean([float(bool(r.conflict_account)) for r in conflicts]),
        "markup_answers": float(sum(r.markup for r in results)),
        "hit_at_5": _mean([r.hit for r in ans]),
        "recall_at_5": _mean([r.recall_k for r in ans]),
        "mrr": _mean([r.mrr for r in ans]),
        "ndcg_at_5": _mean([r.ndcg for r in ans]),
        "latency_p50": _pct([r.seconds for r in timed], 0.5),
        "latency_p95": _pct([r.seconds for r in timed], 0.95),
        "first_token_p50": _pct([r.first_token for r in timed if r.first_token is not None], 0.5),
        "first_token_p95": _pct([r.first_token for r in timed if r.first_token is not None], 0.95),
        "prompt_tokens": _mean([r.prompt_tokens for r in results if r.prompt_tokens is not None]),
        "model_calls": _mean([r.model_calls for r in results if r.model_calls is not None]),
        "errors": float(sum(1 for r in results if r.error)),
    }
    refusals = m.refusal_scores([r.refused for r in results], [r.answerable for r in results])
    out["refusal_precision"] = refusals["refusal_precision"] if any(r.refused for r in results) else None
    out["refusal_recall"] = refusals["refusal_recall"] if unans else None
    out["false_refusal"] = refusals["false_refusal"] if ans else None
    return out
