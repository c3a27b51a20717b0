"""``qa eval``: score a pipeline on a question set (or every registered corpus), write reports, gate on bounds.

    qa eval [--set FILE] [--split dev|heldout|all]       the configured corpus (QA_CORPUS), gated on [seeds]
    qa eval --corpus NAME [--split ...]                  one corpus of eval/corpora.toml, in its own store
    qa eval --all [--split ...]                          every registered corpus present: one summary table
    qa eval --gated [--split ...]                        the corpora with gate = true (the `make test` gate)

Exit 0 when the bounds hold, 1 when a gated bound is broken, 2 on usage or fact-gate errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.columns import baseline_aggregate
from qa.evaluation.corpora import REGISTRY, CorpusEntry, load_registry, pick
from qa.evaluation.dataset import SPLIT_CHOICES, Item
from qa.evaluation.gate import load_thresholds, violations
from qa.evaluation.report import markdown_table, overall_markdown, write_reports
from qa.evaluation.runner import ItemResult, run_items
from qa.evaluation.summary import CorpusOutcome, gate_lines, write_summary
from qa.models import Answer

LEGACY_SET = "eval/qa_set.jsonl"
LEGACY_BASELINE = "eval/results/baseline.json"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa eval", description="Score the system on question sets with known answers.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--corpus", help="one corpus of the registry (eval/corpora.toml), in its own store")
    which.add_argument("--all", action="store_true", help="every registered corpus present; one summary table")
    which.add_argument("--gated", action="store_true", help="the registered corpora with gate = true")
    p.add_argument("--split", choices=SPLIT_CHOICES, default="all", help="items of this split only (default all)")
    p.add_argument("--set", dest="qa_set", help=f"question set (JSONL; default {LEGACY_SET}; not with --corpus/--all)")
    p.add_argument("--llm", dest="preset", choices=["qwen1.5b", "smollm2"], help="model preset")
    p.add_argument("--k", type=int, help="chunks to retrieve")
    p.add_argument("--out", help="report directory (default eval/results/latest, .../corpora/NAME, .../all, .../gated)")
    p.add_argument("--pipeline", choices=["qa", "naive"], default="qa", help="ours, or LangChain's tutorial RAG")
    p.add_argument("--limit", type=int, help="only the first N items of each set (smoke runs)")
    p.add_argument("--registry", default=str(REGISTRY), help="corpus registry with the thresholds")
    p.add_argument("--thresholds", help="thresholds file for a --set run (default: the registry's [seeds])")
    p.add_argument("--baseline", help=f"baseline of a --set run (default {LEGACY_BASELINE})")
    p.add_argument("--no-gate", action="store_true", help="report only; never fail on thresholds")
    p.add_argument("--write-baseline", action="store_true", help="store this run's report as the baseline")
    p.add_argument("--verbose", action="store_true", help="one line per item (beside the progress bar)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation. Exit 0 if thresholds hold, 1 if not, 2 on usage or fact-gate errors."""
    args = _parser().parse_args(argv)
    try:
        if args.limit is not None and args.limit < 1:
            raise QAError("--limit must be at least 1")
        if args.corpus or args.all or args.gated:
            for flag, value in (("--set", args.qa_set), ("--thresholds", args.thresholds), ("--baseline", args.baseline)):
                if value:
                    raise QAError(f"{flag} is for a single --set run; a registered corpus takes it from {args.registry}")
            return _registered(args)
        return _single_set(args)
    except QAError as exc:
        print(f"qa eval: error: {exc}", file=sys.stderr)
        return 2


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {k: v for k, v in {"llm_preset": args.preset, "k": args.k}.items() if v is not None}


def _answerers(pipeline, kind: str) -> tuple[Callable[[Item], Answer], Callable[[str], list[str]]]:  # type: ignore[no-untyped-def]
    """``ask(item)`` and ``rank(question)`` of our pipeline or of the tutorial baseline."""
    if kind == "naive":
        import numpy as np

        from qa.components.embedding import embed
        from qa.evaluation.naive import NaiveRAG

        naive = NaiveRAG(pipeline.settings)

        def rank(q: str) -> list[str]:
            scores = naive.vectors @ embed([q])[0]
            return [naive.chunks[i].source for i in np.argsort(-scores)[:5]]

        return (lambda item: naive.ask(item.question, item.history)), rank
    return (lambda item: pipeline.ask(item.question, item.history)), (
        lambda q: [p.source for p in pipeline.retriever.search(q, 10)])


def _similar(a: str, b: str) -> float:
    from qa.components.embedding import embed

    va, vb = embed([a, b])
    return float(va @ vb)


def evaluate(entry: CorpusEntry, items: list[Item], args: argparse.Namespace,
             out: Path) -> tuple[str, dict, list[ItemResult]]:
    """Index the corpus in its store (incrementally), answer and score ``items``, write the reports."""
    from qa.api import get_pipeline
    from qa.components.llm import backend_label

    pipeline = get_pipeline(**_overrides(args), corpus=str(entry.corpus), store=str(entry.store))
    pipeline.ingest()
    ask, rank = _answerers(pipeline, args.pipeline)
    results: list[ItemResult] = run_items(items, ask, rank, entry.corpus, _similar, label=entry.name,
                                          verbose=args.verbose, progress=not args.no_progress)
    header = (f"pipeline `{args.pipeline}`, backend `{backend_label(pipeline.settings)}`, corpus `{entry.name}` "
              f"(`{entry.corpus}`), set `{entry.set}` ({len(items)} items, split {args.split}), k={pipeline.settings.k}")
    before = json.loads(entry.baseline.read_text()) if entry.baseline.is_file() and args.pipeline == "qa" else None
    doc = write_reports(out, header, results, baseline_aggregate(before, args.split), args.split)
    if args.write_baseline:
        entry.baseline.parent.mkdir(parents=True, exist_ok=True)
        entry.baseline.write_text(json.dumps({k: doc[k] for k in ("header", "aggregate", "per_type", "per_split")},
                                             indent=2))
        print(f"baseline written: {entry.baseline}")
    return header, doc, results


def _single_set(args: argparse.Namespace) -> int:
    """The configured corpus (QA_CORPUS / QA_STORE) with one question set: the original ``qa eval``."""
    from qa.settings import load_settings

    settings = load_settings(**_overrides(args))
    qa_set = Path(args.qa_set or LEGACY_SET)
    entry = CorpusEntry(name=qa_set.stem, corpus=settings.corpus, set=qa_set, store=settings.store,
                        baseline=Path(args.baseline or LEGACY_BASELINE))
    items = entry.items(args.split, args.limit)
    if not items:
        raise QAError(f"no item of split {args.split!r} in {qa_set}")
    bounds = None if args.no_gate else load_thresholds(Path(args.thresholds or args.registry), args.pipeline, "seeds")
    out = Path(args.out or "eval/results/latest")
    header, doc, _ = evaluate(entry, items, args, out)
    return _print_single(header, doc, out, bounds)


def _print_single(header: str, doc: dict, out: Path, bounds: dict | None) -> int:
    print(header)
    print(markdown_table(doc["per_split"], "split"))
    print()
    print(markdown_table(doc["per_type"]))
    print()
    print(overall_markdown(doc["aggregate"]))
    print(f"\nreports: {out}/report.md, report.json, report.html, diff.md")
    broken = violations(doc["aggregate"], bounds) if bounds else []
    for line in broken:
        print(f"THRESHOLD: {line}", file=sys.stderr)
    return 1 if broken else 0


def _registered(args: argparse.Namespace) -> int:
    registry = load_registry(Path(args.registry))
    if args.corpus:
        entry = pick(registry, args.corpus)
        reason = entry.missing()
        if reason:
            raise QAError(f"corpus {entry.name}: {reason}")
        items = entry.items(args.split, args.limit)
        if not items:
            raise QAError(f"no item of split {args.split!r} in {entry.set}")
        out = Path(args.out or f"eval/results/corpora/{entry.name}")
        header, doc, _ = evaluate(entry, items, args, out)
        return _print_single(header, doc, out, entry.bounds(args.pipeline) if entry.gate and not args.no_gate else None)
    entries = [e for e in registry.values() if e.gate or args.all]
    # every set is loaded and fact-gated before anything runs: a bad set fails the run at once (exit 2)
    chosen = {e.name: e.items(args.split, args.limit) for e in entries if not e.missing()}
    out = Path(args.out or ("eval/results/all" if args.all else "eval/results/gated"))
    outcomes = []
    for e in entries:
        if e.missing():
            outcomes.append(CorpusOutcome(e.name, e.gate, "missing", f"missing: {e.missing()}"))
        elif not chosen[e.name]:
            outcomes.append(CorpusOutcome(e.name, e.gate, "empty", f"no item of split {args.split}"))
        else:
            _, doc, results = evaluate(e, chosen[e.name], args, out / e.name)
            broken = violations(doc["aggregate"], e.bounds(args.pipeline)) if e.gate and not args.no_gate else []
            outcomes.append(CorpusOutcome(e.name, e.gate, "ran", results=results,
                                          aggregate=doc["aggregate"], violations=broken, out=str(out / e.name)))
    from qa.components.llm import backend_label
    from qa.settings import load_settings

    header = f"pipeline `{args.pipeline}`, backend `{backend_label(load_settings(**_overrides(args)))}`, split {args.split}"
    print(header)
    print(write_summary(out, header, args.split, outcomes))
    for line in gate_lines(outcomes):
        print(line)
    print(f"\nsummary: {out}/summary.md, summary.json; per corpus: {out}/<name>/report.html")
    return 1 if any(o.broken for o in outcomes) else 0
