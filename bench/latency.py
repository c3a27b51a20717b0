"""Fast answers on a slow CPU: our pipeline against the LangChain tutorial RAG on the same questions, in one run.

    python -m bench.latency [--corpus seeds] [--split all] [--limit N] [--llm qwen1.5b] [--results bench/RESULTS.md]

Reports this host's prompt read and write speed (bench.llm_speed, measured at the start and at the end of the run;
their mean is used), then per pipeline: prompt tokens read and model calls per answer, seconds to the first
verified text and to the whole answer (p50 / p95), raw and normalised to a host that reads 40 prompt tokens/s
(seconds x measured read speed / 40), and the ratios ours / tutorial; then where ours goes: the first progress
shown and the first text of answers from the lead apart from widened ones. Prints a Markdown table and appends it,
dated, to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.evaluation.metrics import percentile
from qa.models import Answer

REFERENCE_READ = 40.0  # prompt tokens/s of the reference slow host
WARM_UP = "What are these documents about?"


@dataclass(frozen=True)
class HostSpeed:
    """Prompt read and token write speed of this host, measured twice."""

    read_start: float
    read_end: float
    write_start: float
    write_end: float

    @property
    def read(self) -> float:
        """Mean prompt tokens read per second."""
        return (self.read_start + self.read_end) / 2

    @property
    def write(self) -> float:
        """Mean tokens written per second."""
        return (self.write_start + self.write_end) / 2

    @property
    def factor(self) -> float:
        """Multiply this host's seconds by this to get a 40 prompt tok/s host's seconds."""
        return self.read / REFERENCE_READ


@dataclass(frozen=True)
class LatencyStats:
    """Latency and prompt cost of one pipeline's answers."""

    name: str
    n: int
    prompt_tokens: float | None  # mean per answer; None when the pipeline does not report it
    model_calls: float | None
    first_p50: float
    first_p95: float
    whole_p50: float
    whole_p95: float


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def stats(name: str, timings: Sequence[dict[str, float]]) -> LatencyStats:
    """Aggregate the ``Answer.timings`` of one pipeline's answers (first text defaults to the whole answer)."""
    whole = [float(t["total"]) for t in timings]
    first = [float(t.get("first_token", t["total"])) for t in timings]
    return LatencyStats(
        name, len(timings),
        _mean([float(t["prompt_tokens"]) for t in timings if "prompt_tokens" in t]),
        _mean([float(t["model_calls"]) for t in timings if "model_calls" in t]),
        percentile(first, 0.5), percentile(first, 0.95), percentile(whole, 0.5), percentile(whole, 0.95),
    )


def ratio(ours: float, theirs: float) -> float | None:
    """ours / theirs (None when theirs is 0)."""
    return ours / theirs if theirs else None


def _n(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pair(a: float, b: float, factor: float = 1.0) -> str:
    return f"{a * factor:.2f} / {b * factor:.2f}"


def markdown(host: HostSpeed, ours: LatencyStats, tutorial: LatencyStats) -> str:
    """The host line and the comparison table."""
    f = host.factor
    head = (f"Host: reads {host.read:.0f} prompt tok/s (start {host.read_start:.0f}, end {host.read_end:.0f}), "
            f"writes {host.write:.1f} tok/s (start {host.write_start:.1f}, end {host.write_end:.1f}); "
            f"normalised to {REFERENCE_READ:.0f} prompt tok/s: seconds x {host.read:.0f} / {REFERENCE_READ:.0f} "
            f"= x {f:.2f}.")
    lines = [
        "| pipeline | answers | prompt tok / answer | model calls / answer | first text p50 / p95 s "
        "| whole answer p50 / p95 s | first text p50 / p95 s @40 tok/s | whole answer p50 / p95 s @40 tok/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in (ours, tutorial):
        lines.append(f"| {s.name} | {s.n} | {_n(s.prompt_tokens)} | {_n(s.model_calls, 1)} | "
                     f"{_pair(s.first_p50, s.first_p95)} | {_pair(s.whole_p50, s.whole_p95)} | "
                     f"{_pair(s.first_p50, s.first_p95, f)} | {_pair(s.whole_p50, s.whole_p95, f)} |")
    first = (ratio(ours.first_p50, tutorial.first_p50), ratio(ours.first_p95, tutorial.first_p95))
    whole = (ratio(ours.whole_p50, tutorial.whole_p50), ratio(ours.whole_p95, tutorial.whole_p95))
    tokens = ratio(ours.prompt_tokens, tutorial.prompt_tokens) if ours.prompt_tokens and tutorial.prompt_tokens else None

    def r(pair: tuple[float | None, float | None]) -> str:
        return " / ".join("—" if v is None else f"{v:.2f}x" for v in pair)

    lines.append(f"| {ours.name} / {tutorial.name} | | {'—' if tokens is None else f'{tokens:.2f}x'} | | "
                 f"{r(first)} | {r(whole)} | {r(first)} | {r(whole)} |")
    return head + "\n\n" + "\n".join(lines)


def by_path(timings: Sequence[dict[str, float]], factor: float) -> str:
    """Where our time goes: the first progress shown, and first text of the answers given from the lead (the best few
    sentences) apart from those that read all the evidence after it (widened), raw and x ``factor``."""
    def p50(values: list[float]) -> str:
        return f"{percentile(values, 0.5):.2f} s ({percentile(values, 0.5) * factor:.2f} s @40)" if values else "—"

    progress = [float(t["first_progress"]) for t in timings if "first_progress" in t]
    lead = [float(t["first_token"]) for t in timings if "p_none_lead" in t and not t.get("widened")]
    wide = [float(t["first_token"]) for t in timings if t.get("widened")]
    return (f"qa by path: first progress shown p50 {p50(progress)}; first text p50 of answers from the lead "
            f"({len(lead)}) {p50(lead)}, of widened ones ({len(wide)}) {p50(wide)}.")


def results_entry(when: dt.datetime, command: str, context: str, table: str) -> str:
    """The dated section appended to bench/RESULTS.md."""
    return f"\n## Latency, {when:%Y-%m-%d %H:%M} (bench.latency)\n\nCommand: `{command}` ({context}).\n\n{table}\n"


def _timed(ask: Callable[[str, list[tuple[str, str]]], Answer], questions: Sequence, label: str) -> list[dict]:
    from tqdm import tqdm

    out = []
    for item in tqdm(questions, desc=label, unit="q", file=sys.stderr):
        out.append(dict(ask(item.question, item.history).timings))
    return out


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def main(argv: list[str] | None = None) -> int:
    """Run both pipelines over the questions, print the table, append it to the results file."""
    ap = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="seeds", help="registered corpus (eval/corpora.toml)")
    ap.add_argument("--split", choices=["all", "dev", "heldout"], default="all")
    ap.add_argument("--limit", type=int, help="only the first N questions")
    ap.add_argument("--llm", dest="preset", choices=["qwen1.5b", "smollm2"], default="qwen1.5b")
    ap.add_argument("--read-tokens", type=int, default=500, help="prompt length of the read-speed measure")
    ap.add_argument("--registry", default="eval/corpora.toml")
    ap.add_argument("--results", default="bench/RESULTS.md", help="file the dated table is appended to")
    ap.add_argument("--no-append", action="store_true", help="print only")
    args = ap.parse_args(argv)

    from bench.llm_speed import measure
    from qa.api import get_pipeline
    from qa.errors import QAError
    from qa.evaluation.corpora import load_registry, pick
    from qa.evaluation.naive import NaiveRAG

    try:
        entry = pick(load_registry(Path(args.registry)), args.corpus)
        if entry.missing():
            raise QAError(f"corpus {entry.name}: {entry.missing()}")
        questions = entry.items(args.split, args.limit)
        if not questions:
            raise QAError(f"no item of split {args.split!r} in {entry.set}")
    except QAError as exc:
        print(f"bench.latency: error: {exc}", file=sys.stderr)
        return 2
    start = measure(args.preset, args.read_tokens)
    pipeline = get_pipeline(corpus=str(entry.corpus), store=str(entry.store), llm_preset=args.preset)
    pipeline.ingest()
    tutorial = NaiveRAG(pipeline.settings)
    pipeline.ask(WARM_UP)  # the judge's context and the chat template load once, outside the timings
    tutorial.ask(WARM_UP)
    timings = _timed(pipeline.ask, questions, "qa")
    ours = stats("qa", timings)
    theirs = stats("naive (LangChain tutorial)", _timed(tutorial.ask, questions, "naive"))
    end = measure(args.preset, args.read_tokens)
    host = HostSpeed(start["read_tok_s"], end["read_tok_s"], start["write_tok_s"], end["write_tok_s"])
    table = markdown(host, ours, theirs) + "\n\n" + by_path(timings, host.factor)
    print(table)
    if not args.no_append:
        command = "python -m bench.latency " + " ".join(argv if argv is not None else sys.argv[1:])
        context = (f"commit {_commit()}, preset {args.preset}, corpus {entry.name}, split {args.split}, "
                   f"{len(questions)} questions")
        with Path(args.results).open("a", encoding="utf-8") as fh:
            fh.write(results_entry(dt.datetime.now(), command.strip(), context, table))
        print(f"\nappended to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
