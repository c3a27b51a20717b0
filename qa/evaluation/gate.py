"""Thresholds: the run fails when an aggregate metric is on the wrong side of its bound.

Bounds live in the corpus registry (``eval/corpora.toml``: ``[NAME.qa.min]``, ``[NAME.qa.max]``,
``[NAME.naive.max]`` ...); a file with top-level ``[qa.min]``-style tables (the old ``thresholds.toml``) still reads.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qa.errors import QAError

Thresholds = dict[str, dict[str, float]]


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file, or a one-line QAError naming it."""
    if not path.is_file():
        raise QAError(f"file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise QAError(f"{path}: {exc}") from exc


def thresholds_of(section: Mapping[str, Any], pipeline: str) -> Thresholds:
    """``{"min": {...}, "max": {...}}`` of ``pipeline`` in a table holding ``[<pipeline>.min]``/``[<pipeline>.max]``."""
    table = section.get(pipeline, {})
    return {"min": dict(table.get("min", {})), "max": dict(table.get("max", {}))}


def load_thresholds(path: Path, pipeline: str, corpus: str | None = None) -> Thresholds:
    """The bounds of ``pipeline``: those of the registry entry ``corpus`` when the file has one, else top-level."""
    data = read_toml(path)
    section = data[corpus] if corpus and isinstance(data.get(corpus), dict) else data
    return thresholds_of(section, pipeline)


def violations(agg: Mapping[str, float | None], thresholds: Thresholds) -> list[str]:
    """Human-readable list of thresholds the aggregate metrics break (empty when all hold)."""
    out = []
    for side in ("min", "max"):
        for key, bound in thresholds.get(side, {}).items():
            value = agg.get(key)
            if key not in agg:
                out.append(f"{key}: unknown metric")
            elif value is None:
                out.append(f"{key}: not measured (no item of this run measures it)")
            elif (value < bound) if side == "min" else (value > bound):
                out.append(f"{key} = {value:.3f} {'<' if side == 'min' else '>'} {side} {bound}")
    return out
