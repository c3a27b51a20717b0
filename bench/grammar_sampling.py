"""Writing under the answer grammar: every token masked (llama-cpp-python's ``generate``) against the top token first.

    python -m bench.grammar_sampling [--corpus seeds] [--limit 12] [--rounds 2] [--llm qwen1.5b]

For the first N items of a registered corpus the reader's prompts are built as an answer would build them (the
lead and all the evidence), read from the saved system-prompt state, and the answer is written both ways, in
turn, in one process. Prints the seconds spent writing per way and round and how many drafts are identical.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from qa.answer.evidence import render
from qa.answer.prompts import template_text
from qa.answer.reader import NONES, grammar, user_message
from qa.components import llamacpp_chat


def masked(llama: Any, rules: Any) -> Iterator[int]:
    """llama-cpp-python's own greedy path: the grammar applied to every token of the vocabulary at every step."""
    return llama.generate(list(llama.input_ids[: llama.n_tokens]), temp=0.0, top_k=1, repeat_penalty=1.0,
                          grammar=rules)


def write_all(llm: Any, prompts: list[tuple[str, int]], way: Callable[[Any, Any], Iterator[int]],
              max_tokens: int) -> tuple[float, list[str]]:
    """Seconds spent writing the answers to ``prompts`` (user message, evidence count) one ``way``, and the answers."""
    system, spent, drafts = template_text("reader_system").strip(), 0.0, []
    real = llamacpp_chat.greedy
    llamacpp_chat.greedy = way
    try:
        for user, n in prompts:
            pieces = llm.constrained(system, user, NONES, lambda _p, n=n: grammar(n), max_tokens)
            next(pieces)  # the prompt is read here; what follows is writing
            t = time.perf_counter()
            drafts.append("".join(str(p) for p in pieces))
            spent += time.perf_counter() - t
    finally:
        llamacpp_chat.greedy = real
    return spent, drafts


def opened(registry: str, corpus: str, **overrides: Any) -> tuple[Any, Any]:
    """The pipeline over a registered corpus, indexed and warmed up, and the corpus's entry. Raises QAError for a
    corpus that is not there."""
    from qa.api import get_pipeline
    from qa.errors import QAError
    from qa.evaluation.corpora import load_registry, pick

    entry = pick(load_registry(Path(registry)), corpus)
    if entry.missing():
        raise QAError(f"corpus {entry.name}: {entry.missing()}")
    pipeline = get_pipeline(corpus=str(entry.corpus), store=str(entry.store), **overrides)
    pipeline.ingest()
    pipeline.warm_up()
    return pipeline, entry


def reader_prompts(registry: str, corpus: str, limit: int, **overrides: Any) -> tuple[Any, Any, list[tuple[str, int]]]:
    """The pipeline over a registered corpus (see :func:`opened`), its entry, and the reader's prompts for its first
    ``limit`` items as an answer builds them: (user message, evidence count) of the lead and of all the evidence."""
    pipeline, entry = opened(registry, corpus, **overrides)
    prompts = []
    for item in entry.items("all", limit):
        prep = pipeline.prepare(item.question, item.history)
        prompts += [(user_message(prep.question, render(shown), item.history), len(shown))
                    for shown in (prep.lead, prep.evidence) if shown]
    return pipeline, entry, prompts


def main(argv: list[str] | None = None) -> int:
    """Write every prompt both ways for ``--rounds`` rounds; print the times and the identical drafts."""
    ap = argparse.ArgumentParser(prog="python -m bench.grammar_sampling", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="seeds", help="registered corpus (eval/corpora.toml)")
    ap.add_argument("--limit", type=int, default=12, help="the first N items")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--llm", dest="preset", choices=["qwen1.5b", "smollm2"], default="qwen1.5b")
    ap.add_argument("--registry", default="eval/corpora.toml")
    args = ap.parse_args(argv)

    from qa.errors import QAError

    try:
        pipeline, entry, prompts = reader_prompts(args.registry, args.corpus, args.limit, llm_preset=args.preset)
    except QAError as exc:
        print(f"bench.grammar_sampling: error: {exc}", file=sys.stderr)
        return 2
    budget = pipeline.policy.answer_tokens
    print(f"{len(prompts)} readings of {args.limit} items of {entry.name}, preset {args.preset}")
    print("| round | every token masked s | top token first s | ratio | identical drafts |\n| --- | --- | --- | --- | --- |")
    for r in range(1, args.rounds + 1):
        slow, a = write_all(pipeline.llm, prompts, masked, budget)
        fast, b = write_all(pipeline.llm, prompts, llamacpp_chat.greedy, budget)
        same = sum(x == y for x, y in zip(a, b, strict=True))
        print(f"| {r} | {slow:.2f} | {fast:.2f} | {fast / slow:.2f}x | {same} of {len(a)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
