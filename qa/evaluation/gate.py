"""Thresholds from ``eval/thresholds.toml``; the run fails when a metric is on the wrong side."""

from __future__ import annotations

import tomllib
from pathlib import Path

from qa.errors import QAError


def load_thresholds(path: Path, pipeline: str) -> dict[str, dict[str, float]]:
    """``{"min": {...}, "max": {...}}`` for the pipeline's section of the thresholds file."""
    if not path.is_file():
        raise QAError(f"thresholds file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise QAError(f"{path}: {exc}") from exc
    section = data.get(pipeline, {})
    return {"min": dict(section.get("min", {})), "max": dict(section.get("max", {}))}


def violations(agg: dict[str, float], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Human-readable list of thresholds the aggregate metrics break (empty when all hold)."""
    out = []
    for key, bound in thresholds.get("min", {}).items():
        if key not in agg:
            out.append(f"{key}: unknown metric")
        elif agg[key] < bound:
            out.append(f"{key} = {agg[key]:.3f} < min {bound}")
    for key, bound in thresholds.get("max", {}).items():
        if key not in agg:
            out.append(f"{key}: unknown metric")
        elif agg[key] > bound:
            out.append(f"{key} = {agg[key]:.3f} > max {bound}")
    return out
