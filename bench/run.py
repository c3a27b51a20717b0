"""Benchmarks for the seeds, in one run: ingest, unchanged re-ingest, retrieval and ask() latency.

    python -m bench.run [--presets qwen1.5b smollm2] [--repeat 3]

Timings vary with machine load: compare the figures of one run with each other, not across runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    "What was the code name of Pakistan's retaliatory operation?",
    "How many people were killed in Pakistan's strikes on Iran?",
    "Who offered to mediate between Iran and Pakistan?",
    "What did India's foreign ministry spokesperson say?",
    "Who won the February 8 election in Pakistan?",
    "Which border crossing stayed open for trade?",
]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--presets", nargs="+", default=["qwen1.5b", "smollm2"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--corpus", default="seeds")
    args = parser.parse_args()

    from qa.api import get_pipeline
    from qa.components.embedding import get_embedder

    get_embedder()  # model load is not ingest time
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    rows: list[tuple[str, str]] = []
    try:
        pipeline = get_pipeline(store=str(tmp / "store"), corpus=args.corpus)
        t = time.perf_counter()
        report = pipeline.ingest()
        rows.append(("ingest seeds (cold store)", f"{time.perf_counter() - t:.2f} s, {report.total_chunks} chunks"))
        t = time.perf_counter()
        pipeline.ingest()
        rows.append(("re-ingest unchanged seeds", f"{(time.perf_counter() - t) * 1000:.0f} ms"))
        pipeline.retriever.search("warm up", 8)
        lat = []
        for _ in range(args.repeat * 5):
            for q in QUESTIONS:
                t = time.perf_counter()
                pipeline.retriever.search(q, 8)
                lat.append((time.perf_counter() - t) * 1000)
        rows.append(("retrieval p50 / p95", f"{pct(lat, .5):.1f} / {pct(lat, .95):.1f} ms (n={len(lat)})"))
        for preset in args.presets:
            p = get_pipeline(pipeline.settings, llm_preset=preset)
            p.ask(QUESTIONS[0])  # model load and prompt-prefix cache warm-up
            totals, firsts = [], []
            for _ in range(args.repeat):
                for q in QUESTIONS:
                    a = p.ask(q)
                    totals.append(a.timings["total"])
                    firsts.append(a.timings.get("first_token", a.timings["total"]))
            rows.append((f"ask() {preset} total p50 / p95",
                         f"{pct(totals, .5):.2f} / {pct(totals, .95):.2f} s (n={len(totals)})"))
            rows.append((f"ask() {preset} first verified text p50 / p95",
                         f"{pct(firsts, .5):.2f} / {pct(firsts, .95):.2f} s (mean {statistics.mean(firsts):.2f})"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
