"""Reports of one run: per-type and per-split Markdown tables, JSON, a diff against the baseline, and report.html."""

from __future__ import annotations

import json
from pathlib import Path

from qa.evaluation.columns import Aggregate, fmt, per_split, per_type
from qa.evaluation.runner import ItemResult

COLUMNS = ("n", "pass_rate", "answer_correct", "correct_with_gold_citation", "refusal_recall", "false_refusal",
           "citation_precision", "citation_recall", "grounded", "conflict_accounts", "markup_answers", "errors",
           "latency_p50")


def markdown_table(table: dict[str, Aggregate], first: str = "type") -> str:
    """A per-type (or per-split) table as Markdown."""
    lines = [f"| {first} | " + " | ".join(COLUMNS) + " |", "| --- |" + " --- |" * len(COLUMNS)]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(fmt(c, row.get(c)) for c in COLUMNS) + " |")
    return "\n".join(lines)


def overall_markdown(agg: Aggregate) -> str:
    """All aggregate metrics as a two-column table."""
    rows = "\n".join(f"| {k} | {'—' if v is None else f'{v:.3f}'} |" for k, v in agg.items())
    return "| metric | value |\n| --- | --- |\n" + rows


def diff_rows(agg: Aggregate, baseline: Aggregate | None) -> list[tuple[str, float | None, float | None]]:
    """(metric, baseline, now) for every metric of the run."""
    return [(k, (baseline or {}).get(k), v) for k, v in agg.items()]


def diff_markdown(agg: Aggregate, baseline: Aggregate | None) -> str:
    """Aggregate metrics against the committed baseline."""
    if not baseline:
        return "No baseline to compare with.\n"
    lines = ["| metric | baseline | now | delta |", "| --- | --- | --- | --- |"]
    for k, b, v in diff_rows(agg, baseline):
        delta = f"{v - b:+.3f}" if v is not None and b is not None else ""
        lines.append(f"| {k} | {'—' if b is None else f'{b:.3f}'} | {'—' if v is None else f'{v:.3f}'} | {delta} |")
    note = _size_note(agg, baseline)
    return "\n".join(lines) + "\n" + (f"\n{note}\n" if note else "")


def _size_note(agg: Aggregate, baseline: Aggregate) -> str:
    n, b = agg.get("n"), baseline.get("n")
    if n is not None and b is not None and int(n) != int(b):
        return f"Note: the baseline scored {int(b)} items, this run {int(n)}; compare with care."
    return ""


def report_document(header: str, split: str, results: list[ItemResult]) -> dict:
    """The JSON report (also the baseline format: ``aggregate``, ``per_type``, ``per_split``)."""
    table = per_type(results)
    return {"header": header, "split": split, "aggregate": table["all"], "per_type": table,
            "per_split": per_split(results), "items": [r.to_dict() for r in results]}


def write_reports(out: Path, header: str, results: list[ItemResult], baseline: Aggregate | None,
                  split: str = "all") -> dict:
    """Write report.json, report.md, diff.md and report.html into ``out``; return the JSON report."""
    from qa.evaluation.html_report import render_html

    out.mkdir(parents=True, exist_ok=True)
    doc = report_document(header, split, results)
    worst = sorted((r for r in results if not r.passed), key=lambda r: r.type)
    failures = "\n".join(f"- `{r.id}` ({r.type}, {r.split}): {r.error or ('refused' if r.refused else r.answer[:160])}"
                         for r in worst)
    html = render_html(header, split, results, doc, baseline)  # before any file: nothing half-written
    (out / "report.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    (out / "report.md").write_text(
        f"# qa eval\n\n{header}\n\nsplit: `{split}`\n\n## Per split\n\n{markdown_table(doc['per_split'], 'split')}\n\n"
        f"## Per type\n\n{markdown_table(doc['per_type'])}\n\n## Overall\n\n{overall_markdown(doc['aggregate'])}\n\n"
        f"## Failed items\n\n{failures or 'none'}\n")
    (out / "diff.md").write_text(f"# Against the baseline\n\n{diff_markdown(doc['aggregate'], baseline)}")
    (out / "report.html").write_text(html, encoding="utf-8")
    return doc
