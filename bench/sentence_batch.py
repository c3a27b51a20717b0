"""Embedding a question's candidate sentences in batches of 64 against ``SENTENCE_BATCH``: time and evidence.

    python -m bench.sentence_batch [--corpus NAME ...] [--against 64]

For every question of the registered corpora, evidence is chosen (``Pipeline.prepare``: retrieval, sentence
embeddings, ranking) with the sentence cache emptied before each, once per batch size, in turn. Prints the
seconds spent preparing per batch size and corpus and the questions whose evidence or lead differ in any
sentence or score. No LLM is loaded.
"""

from __future__ import annotations

import argparse
import time

import qa.components.embedding as embedding


def chosen(pipeline, item, batch: int) -> tuple[float, tuple[list, list]]:  # type: ignore[no-untyped-def]
    """Seconds to prepare ``item`` cold with sentence batches of ``batch``, and its evidence and lead."""
    embedding._CACHE.clear()
    real, embedding.SENTENCE_BATCH = embedding.SENTENCE_BATCH, batch
    try:
        t = time.perf_counter()
        prep = pipeline.prepare(item.question, item.history)
        spent = time.perf_counter() - t
    finally:
        embedding.SENTENCE_BATCH = real
    return spent, ([(p.source, p.start, p.score) for p in prep.evidence], [(p.source, p.start) for p in prep.lead])


def main(argv: list[str] | None = None) -> int:
    """Prepare every question both ways; print times and differing evidence."""
    ap = argparse.ArgumentParser(prog="python -m bench.sentence_batch", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", action="append", help="registered corpus (default: every one present)")
    ap.add_argument("--against", type=int, default=64, help="the batch size compared with SENTENCE_BATCH")
    ap.add_argument("--registry", default="eval/corpora.toml")
    args = ap.parse_args(argv)

    from pathlib import Path

    from qa.api import get_pipeline
    from qa.evaluation.corpora import load_registry

    sizes = (args.against, embedding.SENTENCE_BATCH)
    print(f"| corpus | questions | prepare s, batch {sizes[0]} | prepare s, batch {sizes[1]} | ratio | evidence differs |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, entry in load_registry(Path(args.registry)).items():
        if entry.missing() or (args.corpus and name not in args.corpus):
            continue
        pipeline = get_pipeline(corpus=str(entry.corpus), store=str(entry.store))
        pipeline.ensure_index()
        pipeline.prepare("warm up", [])
        spent, differ = dict.fromkeys(sizes, 0.0), []
        items = entry.items()
        for i, item in enumerate(items):
            got = {}
            for batch in (sizes if i % 2 == 0 else sizes[::-1]):  # alternate the order: neither always goes first
                seconds, got[batch] = chosen(pipeline, item, batch)
                spent[batch] += seconds
            if got[sizes[0]] != got[sizes[1]]:
                differ.append(item.id)
        print(f"| {name} | {len(items)} | {spent[sizes[0]]:.1f} | {spent[sizes[1]]:.1f} | "
              f"{spent[sizes[1]] / spent[sizes[0]]:.2f}x | {len(differ)} {' '.join(differ)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
