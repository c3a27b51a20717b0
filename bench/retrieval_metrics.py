"""Retrieval quality without the LLM: hit@5 and MRR of the fused ranking and of BM25 alone.

For each answerable item of a QA set, the files of ``retriever.search(question, 10)`` (as ``qa eval``
ranks them) and of ``retriever.bm25().search(question, 10)`` are scored against the item's gold files.
The corpus and store come from the settings (``QA_CORPUS``, ``QA_STORE``).

    python -m bench.retrieval_metrics [eval/qa_set.jsonl ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa.api import get_pipeline
from qa.evaluation import metrics as m
from qa.evaluation.dataset import load_items
from qa.evaluation.runner import K_RETRIEVAL


def retrieval_metrics(path: str) -> str:
    """One line per set: hit@5 and MRR of the fused and of the BM25 ranking."""
    pipeline = get_pipeline()
    pipeline.ensure_index()
    retriever = pipeline.retriever
    fused: list[tuple[float, float]] = []
    lexical: list[tuple[float, float]] = []
    for item in load_items(Path(path)):
        if not item.answerable:
            continue
        gold = set(item.gold)
        for ranking, out in ((retriever.search(item.question, 10), fused), (retriever.bm25().search(item.question, 10), lexical)):
            files = [p.source for p in ranking]
            out.append((m.hit_at_k(files, gold, K_RETRIEVAL), m.mrr(files, gold)))

    def mean(xs: list[tuple[float, float]], i: int) -> float:
        return sum(x[i] for x in xs) / max(len(xs), 1)

    return (f"{path}: {len(fused)} items, fused hit@{K_RETRIEVAL} {mean(fused, 0):.3f} MRR {mean(fused, 1):.3f}; "
            f"BM25 hit@{K_RETRIEVAL} {mean(lexical, 0):.3f} MRR {mean(lexical, 1):.3f}")


def main(argv: list[str]) -> None:
    """Print the retrieval metrics of each QA set given (default: the CI gate's set)."""
    for path in argv or ["eval/qa_set.jsonl"]:
        print(retrieval_metrics(path))


if __name__ == "__main__":
    main(sys.argv[1:])
