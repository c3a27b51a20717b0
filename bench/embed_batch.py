"""MiniLM in batches of 64 against the smaller batches qa uses: time, and whether anything it chooses changes.

    python -m bench.embed_batch [--corpus NAME ...] [--against 64]

Per registered corpus, in one process, the two batch sizes alternating:

- *question sentences*: for every question, evidence is chosen (``Pipeline.prepare``: retrieval, sentence
  embeddings, ranking) with the sentence cache emptied first, sentences in batches of ``--against`` and of
  ``SENTENCE_BATCH``; seconds spent, and the questions whose evidence or lead differ in any sentence or score;
- *ingest chunks*: every chunk of the corpus's store embedded in batches of ``--against`` and of ``embed``'s
  default; seconds, the largest difference between the vectors, and the questions whose 30 nearest chunks
  (dense search by those vectors) differ in order.

No LLM is loaded. A batch is padded to its longest text, which is what small batches save.
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path
from typing import Any

import numpy as np

import qa.components.embedding as embedding


def prepared(pipeline: Any, item: Any, batch: int) -> tuple[float, tuple[list, list]]:
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


def sentences_row(name: str, pipeline: Any, items: list[Any], sizes: tuple[int, int]) -> str:
    """One table row: evidence preparation with sentence batches of either size."""
    spent, differ = dict.fromkeys(sizes, 0.0), []
    for i, item in enumerate(items):
        got = {}
        for batch in (sizes if i % 2 == 0 else sizes[::-1]):
            seconds, got[batch] = prepared(pipeline, item, batch)
            spent[batch] += seconds
        if got[sizes[0]] != got[sizes[1]]:
            differ.append(item.id)
    return (f"| {name} | sentences | {len(items)} questions | {spent[sizes[0]]:.1f} | {spent[sizes[1]]:.1f} | "
            f"{spent[sizes[1]] / spent[sizes[0]]:.2f}x | — | {len(differ)} {' '.join(differ)} |")


def chunks_row(name: str, pipeline: Any, items: list[Any], sizes: tuple[int, int]) -> str:
    """One table row: every chunk of the store embedded with either batch size, and the dense top 30 per question."""
    texts = [p.text for p in pipeline.store.all_passages()]
    spent, vectors = {}, {}
    for batch in sizes:
        t = time.perf_counter()
        vectors[batch] = embedding.embed(texts, batch_size=batch)
        spent[batch] = time.perf_counter() - t
    asked = embedding.embed([item.question for item in items])
    tops = {b: np.argsort(-(v @ asked.T), axis=0, kind="stable")[:30].T for b, v in vectors.items()}
    differ = [item.id for item, a, b in zip(items, tops[sizes[0]], tops[sizes[1]], strict=True) if list(a) != list(b)]
    gap = float(np.abs(vectors[sizes[0]] - vectors[sizes[1]]).max())
    return (f"| {name} | chunks | {len(texts)} chunks | {spent[sizes[0]]:.1f} | {spent[sizes[1]]:.1f} | "
            f"{spent[sizes[1]] / spent[sizes[0]]:.2f}x | {gap:.1e} | {len(differ)} {' '.join(differ)} |")


def main(argv: list[str] | None = None) -> int:
    """Both measures for every corpus; prints a Markdown table."""
    ap = argparse.ArgumentParser(prog="python -m bench.embed_batch", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", action="append", help="registered corpus (default: every one present)")
    ap.add_argument("--against", type=int, default=64, help="the batch size compared with qa's")
    ap.add_argument("--registry", default="eval/corpora.toml")
    args = ap.parse_args(argv)

    from qa.api import get_pipeline
    from qa.evaluation.corpora import load_registry

    default = inspect.signature(embedding.embed).parameters["batch_size"].default
    print(f"sentences: batches of {args.against} against {embedding.SENTENCE_BATCH}; chunks: {args.against} against {default}")
    print(f"| corpus | texts | how many | seconds, batch {args.against} | seconds, qa's batch | ratio | largest vector "
          "difference | questions whose choice differs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, entry in load_registry(Path(args.registry)).items():
        if entry.missing() or (args.corpus and name not in args.corpus):
            continue
        pipeline = get_pipeline(corpus=str(entry.corpus), store=str(entry.store))
        pipeline.ensure_index()
        pipeline.prepare("warm up", [])
        items = entry.items()
        print(sentences_row(name, pipeline, items, (args.against, embedding.SENTENCE_BATCH)), flush=True)
        print(chunks_row(name, pipeline, items, (args.against, default)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
