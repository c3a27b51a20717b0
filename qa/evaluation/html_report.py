"""``report.html``: one self-contained page per run, its charts drawn with matplotlib and embedded as PNG."""

from __future__ import annotations

import base64
import io
from html import escape

from qa.evaluation.columns import Aggregate, change, fmt, signed
from qa.evaluation.runner import ItemResult
from qa.evaluation.summary import SUMMARY_COLUMNS

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
.wide { overflow-x: auto; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { max-width: 7em; }
th:first-child, td:first-child { text-align: left; }
td.better { background: #d9f2d9; } td.worse { background: #f8d7d7; } td.same { color: #666; }
img { max-width: 100%; display: block; margin: .5em 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; } .charts figure { margin: 0; flex: 1 1 480px; }
figcaption { font-size: .85em; color: #555; }
"""
OK, BAD, FIRST, WHOLE = "#3a8f3a", "#c0392b", "#4878cf", "#e1812c"


def _png(fig) -> str:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    from matplotlib.figure import Figure  # no pyplot: no global state, no display backend

    return Figure(figsize=(width, height))


def type_bars(per_type: dict[str, Aggregate]) -> str:
    """Grouped bars per item type: pass rate and share answered correctly (base64 PNG)."""
    names = [t for t in per_type if t != "all"]
    fig = _figure(6.4, 3.4)
    ax = fig.subplots()
    xs = range(len(names))
    passed = [per_type[t]["pass_rate"] or 0.0 for t in names]
    correct = [per_type[t].get("answer_correct") or 0.0 for t in names]
    ax.bar([x - 0.2 for x in xs], passed, 0.4, label="pass", color=OK)
    ax.bar([x + 0.2 for x in xs], correct, 0.4, label="correct (answerable)", color=FIRST)
    ax.set_xticks(list(xs), [f"{t}\n(n={int(per_type[t]['n'] or 0)})" for t in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of items")
    ax.set_title("Pass and correct per type")
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def latency_histogram(results: list[ItemResult]) -> str:
    """Histogram of seconds to the first text and to the whole answer (base64 PNG)."""
    whole = [r.seconds for r in results if not r.error]
    first = [r.first_token for r in results if not r.error and r.first_token is not None]
    fig = _figure(6.4, 3.4)
    ax = fig.subplots()
    top = max(whole + first + [1.0])
    bins = [top * i / 20 for i in range(21)]
    ax.hist(first, bins=bins, alpha=0.65, label=f"first text (n={len(first)})", color=FIRST)
    ax.hist(whole, bins=bins, alpha=0.65, label=f"whole answer (n={len(whole)})", color=WHOLE)
    ax.set_xlabel("seconds")
    ax.set_ylabel("answers")
    ax.set_title("Latency")
    ax.legend(fontsize=8)
    return _png(fig)


def refusal_matrix(results: list[ItemResult]) -> str:
    """2x2 chart: answerable/unanswerable x answered/refused, right cells green, wrong cells red (base64 PNG)."""
    from matplotlib.colors import ListedColormap

    counts = [[sum(1 for r in results if r.answerable == a and r.refused == refused) for refused in (False, True)]
              for a in (True, False)]
    fig = _figure(4.2, 3.4)
    ax = fig.subplots()
    ax.imshow([[0, 1], [1, 0]], cmap=ListedColormap([OK, BAD]), alpha=0.75, vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(counts[i][j]), ha="center", va="center", fontsize=18, color="white", weight="bold")
    ax.set_xticks([0, 1], ["answered", "refused"])
    ax.set_yticks([0, 1], ["answerable", "unanswerable"])
    ax.set_title("Refusals: right (green) and wrong (red)")
    return _png(fig)


def _table(headers: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="{classes[i][j]}">{escape(c)}</td>' if classes and classes[i][j] else f"<td>{escape(c)}</td>"
            for j, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<div class=\"wide\"><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def metric_table(groups: dict[str, Aggregate], first: str) -> str:
    """Rows = groups (types or splits), columns = the headline metrics of the summary table."""
    rows = [[name] + [fmt(k, agg.get(k)) for k, _ in SUMMARY_COLUMNS] for name, agg in groups.items()]
    return _table([first, *(h for _, h in SUMMARY_COLUMNS)], rows)


def baseline_table(agg: Aggregate, baseline: Aggregate | None) -> str:
    """Metric, baseline, now and delta; the delta cell green when better, red when worse."""
    if not baseline:
        return "<p>No baseline to compare with.</p>"
    rows, classes = [], []
    for key, now in agg.items():
        before = baseline.get(key)
        delta = signed(key, now - before) if now is not None and before is not None else ""
        rows.append([key, fmt(key, before), fmt(key, now), delta])
        classes.append(["", "", "", change(key, now, before)])
    return _table(["metric", "baseline", "now", "delta"], rows, classes)


def render_html(header: str, split: str, results: list[ItemResult], doc: dict, baseline: Aggregate | None) -> str:
    """The whole page."""
    charts = [("Pass and correct per item type", type_bars(doc["per_type"])),
              ("Seconds to the first verified text and to the whole answer", latency_histogram(results)),
              ("Answered or refused, by whether the sources answer", refusal_matrix(results))]
    figures = "".join(f'<figure><img alt="{escape(c)}" src="data:image/png;base64,{png}"><figcaption>{escape(c)}'
                      f"</figcaption></figure>" for c, png in charts)
    failed = "".join(f"<li><code>{escape(r.id)}</code> ({escape(r.type)}, {escape(r.split)}): "
                     f"{escape(r.error or ('refused' if r.refused else r.answer[:200]))}</li>"
                     for r in results if not r.passed) or "<li>none</li>"
    return (
        f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>qa eval report</title>"
        f"<style>{STYLE}</style></head><body><h1>qa eval report</h1><p>{escape(header)}</p>"
        f"<p>split: <code>{escape(split)}</code></p>"
        f"<h2>Per split</h2>{metric_table(doc['per_split'], 'split')}"
        f"<h2>Per type</h2>{metric_table(doc['per_type'], 'type')}"
        f"<h2>Charts</h2><div class=\"charts\">{figures}</div>"
        f"<h2>Against the baseline</h2>{baseline_table(doc['aggregate'], baseline)}"
        f"<h2>Failed items</h2><ul>{failed}</ul></body></html>\n"
    )
