"""Can the reader judge its own answer? The judge asked in the reader's context against the judge on its own.

    python -m bench.self_judge [--corpus NAME ...] [--split dev] [--limit N]

The standalone judge reads a quote and the question in a context of its own (~60-80 prompt tokens per call).
Asked instead in the reader's context, after the answer it wrote ("Does sentence [3] answer the question?"),
it would read ~25 tokens: the evidence and the answer are already there. For every claim the reader makes from
the lead and from all the evidence of each item, both are asked (three wordings in the reader's context) and
scored against a label: *good* when the item is answerable, every quote is from a gold file and a gold fact is
in the claim or its quotes. Prints each judge's AUC, the claims it keeps at each threshold (good / not good)
and the prompt tokens it read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench.grammar_sampling import opened
from bench.judge_auc import THRESHOLDS, auc
from qa.answer.evidence import render
from qa.answer.grounding import Grounder
from qa.answer.prompts import template_text
from qa.answer.reader import user_message
from qa.evaluation.dataset import fact_matches

ASKS = {  # what the reader is asked after its answer; {k}: the quoted sentences' numbers, {q}: the question
    "sentence": "Does sentence {k} answer the question? Reply Yes or No.",
    "answer": "Is your answer supported by the sentence it cites, and does it answer the question? Reply Yes or No.",
    "restated": "Question: {q}\nDoes sentence {k} answer this question? Reply Yes or No.",
}


def asked_after(llm: Any, system: str, user: str, written: str, ask: str) -> tuple[float, int]:
    """P(Yes) of the reader asked ``ask`` after writing ``written`` in its own context, and the tokens read
    beyond the rows already there."""
    from qa.components.llamacpp_chat import _CALL_LOCKS, _last_logits, _message, chat_prompt, yes_probability

    llama = llm.llama
    with _CALL_LOCKS[id(llama)]:
        text = chat_prompt(llama, [_message("system", system), _message("user", user),
                                   _message("assistant", written.strip()), _message("user", ask)])
        tokens = llama.tokenize((text + "<|im_start|>assistant\n").encode(), add_bos=False, special=True)
        same, end = 0, min(llama.n_tokens, len(tokens) - 1)
        while same < end and llama.input_ids[same] == tokens[same]:
            same += 1
        llama.n_tokens = same
        llama.eval(tokens[same:])
        logits = _last_logits(llama).astype("float64")
    return yes_probability(llama, logits), len(tokens) - same


def claims_judged(corpus: str, split: str, limit: int | None, registry: str) -> list[dict[str, Any]]:
    """Every grounded claim of the reader on the corpus's items, judged each way (QAError: no such corpus)."""
    pipeline, entry = opened(registry, corpus)
    reader, system, rows = pipeline.reader(), template_text("reader_system").strip(), []
    for item in entry.items(split, limit):
        prep = pipeline.prepare(item.question, item.history)
        for shown in (prep.lead, prep.evidence):
            stream, said = reader.read(prep.question, shown, item.history, 1.0), []
            reading = None
            while reading is None:
                try:
                    kind, value = next(stream)
                    said += [value] if kind == "claim" else []
                except StopIteration as stop:
                    reading = stop.value
            grounder = Grounder(prep.question, shown, pipeline.policy, prep.chunks)
            user = user_message(prep.question, render(shown), item.history)
            for sentence, ids in said:
                if (backed := grounder.claim(sentence, [shown[i - 1] for i in ids])) is None:
                    continue
                k = " and ".join(f"[{shown.index(q) + 1}]" for q in backed.quotes)
                before = reader.prompt_tokens
                row: dict[str, Any] = {"standalone": reader.judge(prep.question, backed.quotes, item.history)}
                row["standalone_tok"] = reader.prompt_tokens - before
                for name, ask in ASKS.items():
                    row[name], row[name + "_tok"] = asked_after(pipeline.llm, system, user, reading.text,
                                                                ask.format(k=k, q=prep.question))
                text = sentence + " " + " ".join(q.text for q in backed.quotes)
                row["good"] = (item.answerable and {q.source for q in backed.quotes} <= set(item.gold)
                               and any(fact_matches(f, text) for f in item.facts))
                rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """AUC and kept claims per threshold, per judge."""
    head = " | ".join(f"kept at {t} (good / not)" for t in THRESHOLDS)
    lines = [f"{len(rows)} claims, {sum(r['good'] for r in rows)} good", "",
             f"| judge | AUC | prompt tok / call | {head} |", "|" + " --- |" * (3 + len(THRESHOLDS))]
    for name in ("standalone", *ASKS):
        pos = [r[name] for r in rows if r["good"] and r[name] is not None]
        neg = [r[name] for r in rows if not r["good"] and r[name] is not None]
        kept = " | ".join(f"{sum(p >= t for p in pos)} / {sum(p >= t for p in neg)}" for t in THRESHOLDS)
        tokens = sum(r[name + "_tok"] for r in rows) / max(1, len(rows))
        lines.append(f"| {name} | {auc(pos, neg):.3f} | {tokens:.0f} | {kept} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Judge the claims of each corpus both ways and print one table over them all."""
    ap = argparse.ArgumentParser(prog="python -m bench.self_judge", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", nargs="+", default=["seeds_fresh", "wrenhaven", "news", "report", "readmes"])
    ap.add_argument("--split", choices=["all", "dev", "heldout"], default="dev")
    ap.add_argument("--limit", type=int, help="the first N items of each corpus")
    ap.add_argument("--registry", default="eval/corpora.toml")
    args = ap.parse_args(argv)
    from qa.errors import QAError

    try:
        rows = [r for c in args.corpus for r in claims_judged(c, args.split, args.limit, args.registry)]
    except QAError as exc:
        print(f"bench.self_judge: error: {exc}", file=sys.stderr)
        return 2
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
