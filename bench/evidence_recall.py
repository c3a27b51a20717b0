"""Do the gold facts reach the model? Retrieval and evidence selection measured without the LLM.

For each answerable single-turn item of a QA set: are all its facts in the retrieved chunks, in the
numbered evidence passages the model may see, and in the lead it reads first? Runs in about a minute (the
embedder only), so retrieval and selection changes can be compared before a full ``qa eval``. With
``--imagined``, also: in the evidence found by searching again with the sentence the model imagines an answer
holds (what the wider reading reads; the model writes one sentence per item). The corpus and store come from
the settings (``QA_CORPUS``, ``QA_STORE``), as for ``qa eval``.

    python -m bench.evidence_recall [--split dev|heldout|all] [--imagined] [eval/qa_set.jsonl ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa.api import get_pipeline
from qa.evaluation.dataset import load_items, select_split
from qa.evaluation.metrics import facts_present
from qa.ingest.chunker import count_tokens


def evidence_recall(path: str, split: str = "all", imagined: bool = False) -> str:
    """One line per set: facts in chunks / in evidence, mean evidence tokens, and the items that miss."""
    pipeline = get_pipeline()
    n = in_chunks = in_evidence = in_lead = tokens = in_imagined = 0
    missing, gained, lost = [], [], []
    for item in select_split(load_items(Path(path)), split):
        if not item.answerable or item.history:
            continue
        prep = pipeline.prepare(item.question, [])
        chunks = prep.retrieved
        evidence = " ".join(p.text for p in prep.evidence)
        found = facts_present(" ".join(c.text for c in chunks), item.facts)
        shown = facts_present(evidence, item.facts)
        n, in_chunks, in_evidence = n + 1, in_chunks + found, in_evidence + shown
        in_lead += facts_present(" ".join(p.text for p in prep.lead), item.facts)
        tokens += count_tokens(evidence)
        if not shown:
            missing.append(item.id + (" (in chunks)" if found else ""))
        if imagined:
            hint = pipeline.reader().imagine(prep.question, [])
            wide = pipeline.prepare(item.question, [], hint, chunks)
            again = facts_present(" ".join(p.text for p in wide.evidence), item.facts)
            in_imagined += again
            (gained if again > shown else lost if again < shown else []).append(item.id)
    also = (f"; searched again with the imagined sentence: in evidence {in_imagined} (gained {', '.join(gained) or 'none'}; "
            f"lost {', '.join(lost) or 'none'})") if imagined else ""
    return (f"{path} ({split}): {n} items, facts in retrieved chunks {in_chunks}, in evidence {in_evidence} "
            f"(in its lead {in_lead}), "
            f"mean evidence tokens {tokens / max(n, 1):.0f}; missing: {', '.join(missing) or 'none'}{also}")


def main(argv: list[str]) -> None:
    """Print the evidence recall of each QA set given (default: the CI gate's set)."""
    split, imagined = "all", "--imagined" in argv
    argv = [a for a in argv if a != "--imagined"]
    if argv[:1] == ["--split"]:
        split, argv = argv[1], argv[2:]
    for path in argv or ["eval/qa_set.jsonl"]:
        print(evidence_recall(path, split, imagined))


if __name__ == "__main__":
    main(sys.argv[1:])
