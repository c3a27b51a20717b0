"""``qa eval``: score a pipeline on the QA set, write reports, and fail below the thresholds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.dataset import Item, fact_gate, load_items
from qa.evaluation.gate import load_thresholds, violations
from qa.evaluation.report import markdown_table, overall_markdown, write_reports
from qa.evaluation.runner import run_items


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa eval", description="Score the system on the hand-written QA set.")
    p.add_argument("--set", dest="qa_set", default="eval/qa_set.jsonl", help="QA set (JSONL)")
    p.add_argument("--llm", dest="preset", choices=["qwen1.5b", "smollm2"], help="model preset")
    p.add_argument("--k", type=int, help="chunks to retrieve")
    p.add_argument("--out", default="eval/results/latest", help="report directory")
    p.add_argument("--pipeline", choices=["qa", "naive"], default="qa", help="ours, or LangChain's tutorial RAG")
    p.add_argument("--limit", type=int, help="only the first N items (smoke runs)")
    p.add_argument("--thresholds", default="eval/thresholds.toml")
    p.add_argument("--baseline", default="eval/results/baseline.json")
    p.add_argument("--no-gate", action="store_true", help="report only; never fail on thresholds")
    p.add_argument("--write-baseline", action="store_true", help="store this run's aggregate as the baseline")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation. Exit 0 if thresholds hold, 1 if not, 2 on usage or fact-gate errors."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except QAError as exc:
        print(f"qa eval: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from qa.api import get_pipeline
    from qa.components.embedding import embed

    overrides = {k: v for k, v in {"llm_preset": args.preset, "k": args.k}.items() if v is not None}
    pipeline = get_pipeline(**overrides)
    corpus = Path(pipeline.settings.corpus)
    items = load_items(Path(args.qa_set))
    fact_gate(items, corpus)  # before any scoring: a typo in the gold set must never pass silently
    if args.limit:
        items = items[: args.limit]
    pipeline.ensure_index()

    if args.pipeline == "naive":
        from qa.evaluation.naive import NaiveRAG

        naive = NaiveRAG(pipeline.settings)

        def ask(item: Item):  # type: ignore[no-untyped-def]
            return naive.ask(item.question, item.history)

        def rank(q: str) -> list[str]:
            import numpy as np

            scores = naive.vectors @ embed([q])[0]
            return [naive.chunks[i].source for i in np.argsort(-scores)[:5]]
    else:
        def ask(item: Item):  # type: ignore[no-untyped-def]
            return pipeline.ask(item.question, item.history)

        def rank(q: str) -> list[str]:
            return [p.source for p in pipeline.retriever.search(q, 10)]

    def similar(a: str, b: str) -> float:
        va, vb = embed([a, b])
        return float(va @ vb)

    results = run_items(items, ask, rank, corpus, similar)
    from qa.components.llm import backend_label

    header = (f"pipeline `{args.pipeline}`, backend `{backend_label(pipeline.settings)}`, set `{args.qa_set}` "
              f"({len(items)} items), k={pipeline.settings.k}")
    baseline_path = Path(args.baseline)
    baseline = json.loads(baseline_path.read_text())["aggregate"] if baseline_path.is_file() else None
    table = write_reports(Path(args.out), header, results, baseline if args.pipeline == "qa" else None)
    print(header)
    print(markdown_table(table))
    print()
    print(overall_markdown(table["all"]))
    print(f"\nreports: {args.out}/report.md, report.json, diff.md")
    if args.write_baseline:
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        baseline_path.write_text(json.dumps({"header": header, "aggregate": table["all"]}, indent=2))
        print(f"baseline written: {baseline_path}")
    if args.no_gate:
        return 0
    broken = violations(table["all"], load_thresholds(Path(args.thresholds), args.pipeline))
    for line in broken:
        print(f"THRESHOLD: {line}", file=sys.stderr)
    return 1 if broken else 0
