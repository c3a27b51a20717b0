"""Tables and reports: per-type Markdown table, JSON report, and a diff against the baseline."""

from __future__ import annotations

import json
from pathlib import Path

from qa.evaluation.dataset import TYPES
from qa.evaluation.runner import ItemResult, aggregate

COLUMNS = ("n", "pass_rate", "answer_correct", "refusal_recall", "false_refusal", "citation_precision",
           "citation_recall", "grounded", "latency_p50")


def per_type(results: list[ItemResult]) -> dict[str, dict[str, float]]:
    """Aggregates for each item type, plus 'all'."""
    table = {t: aggregate([r for r in results if r.type == t]) for t in TYPES if any(r.type == t for r in results)}
    table["all"] = aggregate(results)
    return table


def markdown_table(table: dict[str, dict[str, float]]) -> str:
    """The per-type table as Markdown."""
    lines = ["| type | " + " | ".join(COLUMNS) + " |", "| --- |" + " --- |" * len(COLUMNS)]
    for name, row in table.items():
        cells = [f"{int(row[c])}" if c == "n" else f"{row[c]:.2f}" for c in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def overall_markdown(agg: dict[str, float]) -> str:
    """All aggregate metrics as a two-column table."""
    return "| metric | value |\n| --- | --- |\n" + "\n".join(f"| {k} | {v:.3f} |" for k, v in agg.items())


def diff_markdown(agg: dict[str, float], baseline: dict[str, float] | None) -> str:
    """Aggregate metrics against the committed baseline."""
    if not baseline:
        return "No baseline to compare with.\n"
    lines = ["| metric | baseline | now | delta |", "| --- | --- | --- | --- |"]
    for k, v in agg.items():
        b = baseline.get(k)
        lines.append(f"| {k} | {b:.3f} | {v:.3f} | {v - b:+.3f} |" if b is not None else f"| {k} | — | {v:.3f} | |")
    return "\n".join(lines) + "\n"


def write_reports(out: Path, header: str, results: list[ItemResult], baseline: dict[str, float] | None) -> dict:
    """Write report.json, report.md and diff.md into ``out``; return the per-type table."""
    out.mkdir(parents=True, exist_ok=True)
    table = per_type(results)
    (out / "report.json").write_text(json.dumps(
        {"header": header, "aggregate": table["all"], "per_type": table, "items": [r.to_dict() for r in results]},
        indent=2, ensure_ascii=False))
    worst = sorted((r for r in results if not r.passed), key=lambda r: r.type)
    failures = "\n".join(f"- `{r.id}` ({r.type}): {r.error or ('refused' if r.refused else r.answer[:160])}" for r in worst)
    (out / "report.md").write_text(
        f"# qa eval\n\n{header}\n\n## Per type\n\n{markdown_table(table)}\n\n## Overall\n\n"
        f"{overall_markdown(table['all'])}\n\n## Failed items\n\n{failures or 'none'}\n")
    (out / "diff.md").write_text(f"# Against the baseline\n\n{diff_markdown(table['all'], baseline)}")
    return table
