"""Grouping item results (per type, per split) and formatting metric values the same way in every report."""

from __future__ import annotations

from collections.abc import Mapping

from qa.evaluation.dataset import SPLITS, TYPES, UNSPLIT
from qa.evaluation.runner import ItemResult, aggregate

Aggregate = dict[str, float | None]

COUNTS = {"n", "phantom_citations", "markup_answers", "errors"}
SECONDS = {"latency_p50", "latency_p95", "first_token_p50", "first_token_p95"}
# metrics where a smaller value is better (the rest: larger is better; `n` is neither)
LOWER_IS_BETTER = COUNTS - {"n"} | SECONDS | {"false_refusal", "prompt_tokens", "model_calls"}
SPLIT_ORDER = (UNSPLIT, *SPLITS)


def fmt(key: str, value: float | None) -> str:
    """A metric as printed: counts as integers, seconds and token counts with one decimal, rates with two."""
    if value is None:
        return "—"
    if key in COUNTS:
        return f"{int(value)}"
    if key in SECONDS or key in {"prompt_tokens", "model_calls"}:
        return f"{value:.1f}"
    return f"{value:.2f}"


def signed(key: str, delta: float) -> str:
    """A change of a metric, with its sign, at the precision :func:`fmt` prints the metric."""
    if key in COUNTS:
        return f"{round(delta):+d}"
    if key in SECONDS or key in {"prompt_tokens", "model_calls"}:
        return f"{delta:+.1f}"
    return f"{delta:+.3f}"


def per_type(results: list[ItemResult]) -> dict[str, Aggregate]:
    """Aggregates for each item type, plus 'all'."""
    table = {t: aggregate([r for r in results if r.type == t]) for t in TYPES if any(r.type == t for r in results)}
    table["all"] = aggregate(results)
    return table


def per_split(results: list[ItemResult]) -> dict[str, Aggregate]:
    """Aggregates for each split present (``unsplit``, ``dev``, ``heldout``, in that order)."""
    return {s: aggregate([r for r in results if r.split == s]) for s in SPLIT_ORDER if any(r.split == s for r in results)}


def change(key: str, now: float | None, before: float | None) -> str:
    """``better``, ``worse`` or ``same`` for a metric moving from ``before`` to ``now`` (``same`` when unknown)."""
    if now is None or before is None or key == "n" or abs(now - before) < 1e-9:
        return "same"
    up = now > before
    return "worse" if up == (key in LOWER_IS_BETTER) else "better"


def baseline_aggregate(baseline: Mapping[str, object] | None, split: str) -> Aggregate | None:
    """The baseline's aggregate to compare a run of ``split`` with: its ``per_split`` row when it has one."""
    if not baseline:
        return None
    by_split = baseline.get("per_split")
    if split != "all" and isinstance(by_split, dict) and isinstance(by_split.get(split), dict):
        return dict(by_split[split])
    agg = baseline.get("aggregate")
    return dict(agg) if isinstance(agg, dict) else None
