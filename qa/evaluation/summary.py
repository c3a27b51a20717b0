"""One table over several corpora: rows = corpus x split, the headline metrics as columns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from qa.evaluation.columns import Aggregate, fmt, per_split
from qa.evaluation.runner import ItemResult

# (aggregate key, column heading)
SUMMARY_COLUMNS = (
    ("n", "n"),
    ("correct_with_gold_citation", "correct + gold cite"),
    ("pass_rate", "pass"),
    ("refusal_recall", "refusal recall"),
    ("false_refusal", "false refusals"),
    ("citation_precision", "cite precision"),
    ("phantom_citations", "phantom cites"),
    ("conflict_accounts", "conflict accounts"),
    ("markup_answers", "markup answers"),
    ("errors", "errors"),
    ("first_token_p50", "first text p50 s"),
    ("latency_p50", "answer p50 s"),
    ("latency_p95", "answer p95 s"),
    ("prompt_tokens", "prompt tok / answer"),
)


@dataclass
class CorpusOutcome:
    """What happened to one registered corpus in a multi-corpus run."""

    name: str
    gate: bool
    status: str  # "ran", "missing" or "empty" (no item in the chosen split)
    reason: str = ""
    results: list[ItemResult] = field(default_factory=list)
    aggregate: Aggregate = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    out: str = ""

    @property
    def broken(self) -> bool:
        """A gated corpus that ran and broke a bound."""
        return self.gate and bool(self.violations)


def rows(outcomes: list[CorpusOutcome], split: str) -> list[dict]:
    """One row per corpus and split that ran; one row (with a note) per corpus that did not."""
    out: list[dict] = []
    for o in outcomes:
        if o.status != "ran":
            out.append({"corpus": o.name, "split": split if o.status == "empty" else "—", "note": o.reason})
            continue
        for name, agg in per_split(o.results).items():
            out.append({"corpus": o.name, "split": name, "note": "", **{k: agg.get(k) for k, _ in SUMMARY_COLUMNS}})
    return out


def markdown(table: list[dict]) -> str:
    """The rows as one Markdown table."""
    heads = ["corpus", "split", *(h for _, h in SUMMARY_COLUMNS), "note"]
    lines = ["| " + " | ".join(heads) + " |", "|" + " --- |" * len(heads)]
    for row in table:
        cells = [fmt(k, row.get(k)) if "n" in row else "" for k, _ in SUMMARY_COLUMNS]
        lines.append("| " + " | ".join([row["corpus"], row["split"], *cells, row["note"]]) + " |")
    return "\n".join(lines)


def gate_lines(outcomes: list[CorpusOutcome]) -> list[str]:
    """One line per gated corpus: ok, broken (with the bounds), or not run."""
    lines = []
    for o in outcomes:
        if not o.gate:
            continue
        if o.status != "ran":
            lines.append(f"gate {o.name}: not checked ({o.reason})")
        else:
            lines.append(f"gate {o.name}: " + ("BROKEN: " + "; ".join(o.violations) if o.violations else "ok"))
    return lines


def write_summary(out: Path, header: str, split: str, outcomes: list[CorpusOutcome]) -> str:
    """Write summary.md and summary.json into ``out``; return the Markdown table."""
    table = rows(outcomes, split)
    text = markdown(table)
    gates = gate_lines(outcomes)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({
        "header": header, "split": split, "rows": table,
        "corpora": {o.name: {"status": o.status, "reason": o.reason, "gate": o.gate, "violations": o.violations,
                             "report": o.out, "aggregate": o.aggregate} for o in outcomes},
    }, indent=2, ensure_ascii=False))
    gate_md = "\n".join(f"- {line}" for line in gates) or "- no gated corpus"
    (out / "summary.md").write_text(f"# qa eval --all\n\n{header}\n\nsplit: `{split}`\n\n{text}\n\n## Gates\n\n{gate_md}\n")
    return text
