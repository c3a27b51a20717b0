"""The corpus registry (``eval/corpora.toml``): which documents, questions, store and bounds each corpus has."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.evaluation.dataset import Item, fact_gate, load_items, select_split
from qa.evaluation.gate import Thresholds, read_toml, thresholds_of

REGISTRY = Path("eval/corpora.toml")
PIPELINES = ("qa", "naive")
_KEYS = {"corpus", "set", "store", "gate", "baseline", *PIPELINES}


@dataclass(frozen=True)
class CorpusEntry:
    """One registered corpus."""

    name: str
    corpus: Path
    set: Path
    store: Path
    gate: bool = False
    baseline: Path = Path()
    thresholds: dict[str, Thresholds] = field(default_factory=dict)

    def missing(self) -> str | None:
        """Why this corpus cannot run here (its folder or question set is absent), or None."""
        if not self.corpus.is_dir():
            return f"corpus folder {self.corpus} not found"
        if not self.set.is_file():
            return f"question set {self.set} not found"
        return None

    def items(self, split: str = "all", limit: int | None = None) -> list[Item]:
        """The set's items after the fact gate (over the whole set), of ``split``, the first ``limit``."""
        items = load_items(self.set)
        fact_gate(items, self.corpus)  # before any scoring: a typo in the gold set must never pass silently
        chosen = select_split(items, split)
        return chosen[:limit] if limit else chosen

    def bounds(self, pipeline: str) -> Thresholds:
        """The thresholds of ``pipeline`` on this corpus (empty when it has none)."""
        return self.thresholds.get(pipeline, {"min": {}, "max": {}})


def _entry(name: str, table: Any, path: Path) -> CorpusEntry:
    if not isinstance(table, dict):
        raise QAError(f"{path}: [{name}] must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise QAError(f"{path}: [{name}]: unknown setting(s) {', '.join(sorted(unknown))}")
    for key in ("corpus", "set"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise QAError(f"{path}: [{name}]: `{key}` (a path) is required")
    gate = table.get("gate", False)
    if not isinstance(gate, bool):
        raise QAError(f"{path}: [{name}]: `gate` must be true or false")
    thresholds = {p: thresholds_of(table, p) for p in PIPELINES if p in table}
    for pipeline, bounds in thresholds.items():
        for side in ("min", "max"):
            bad = [k for k, v in bounds[side].items() if not isinstance(v, int | float) or isinstance(v, bool)]
            if bad:
                raise QAError(f"{path}: [{name}.{pipeline}.{side}]: {', '.join(bad)} must be numbers")
    if gate and not any(thresholds.get("qa", {}).get(side) for side in ("min", "max")):
        raise QAError(f"{path}: [{name}] is gated but has no [{name}.qa.min] or [{name}.qa.max] bounds")
    return CorpusEntry(
        name=name, corpus=Path(table["corpus"]), set=Path(table["set"]),
        store=Path(table.get("store", f".qa/eval/{name}")), gate=gate,
        baseline=Path(table.get("baseline", f"eval/results/baselines/{name}.json")), thresholds=thresholds,
    )


def load_registry(path: Path = REGISTRY) -> dict[str, CorpusEntry]:
    """Every registered corpus by name, in file order."""
    return {name: _entry(name, table, path) for name, table in read_toml(path).items()}


def pick(registry: dict[str, CorpusEntry], name: str) -> CorpusEntry:
    """The entry ``name``, or a one-line error listing the known names."""
    if name not in registry:
        raise QAError(f"unknown corpus {name!r} (registered: {', '.join(registry)})")
    return registry[name]
