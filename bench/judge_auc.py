"""Does the judge tell a quote that answers from one that does not? Measured on answers given without it.

    QA_JUDGE_AT=0 qa eval --corpus NAME --split dev --out DIR --no-gate
    python -m bench.judge_auc DIR/report.json [--system FILE] [--user FILE]

Each answered item's first quote is judged by the local model (the pipeline's judge prompt, or the
``--system`` / ``--user`` templates tried instead; the user template gets ``{sentence}``, ``{history}``
and ``{question}``; multi-turn items are judged without their earlier question). Labels: *answers*
(answerable item, passed), *no answer* (unanswerable item), *wrong* (the rest). Prints the AUC of P(Yes)
and, per threshold, how many of each a judge at that threshold rejects: a threshold pays where it
rejects more *no answer* quotes than *answers* ones (rejecting a wrong answer turns it into a refusal,
which costs no pass). The corpus and store come from the settings, as for ``qa eval``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from qa.answer.prompts import template_text
from qa.api import get_pipeline

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    return sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / (len(pos) * len(neg))


def label(item: dict) -> str:
    """answers / no answer / wrong."""
    if not item["answerable"]:
        return "no answer"
    return "answers" if item["passed"] else "wrong"


def main(argv: list[str] | None = None) -> None:
    """Judge every answered item's first quote and print the separation."""
    ap = argparse.ArgumentParser(prog="python -m bench.judge_auc", description=__doc__.split("\n")[0])
    ap.add_argument("report", help="report.json of a qa eval run made with QA_JUDGE_AT=0")
    ap.add_argument("--system", help="judge system prompt file (default prompts/judge_system.txt)")
    ap.add_argument("--user", help="judge user template file (default prompts/judge_user.txt)")
    args = ap.parse_args(argv)
    system = Path(args.system).read_text() if args.system else template_text("judge_system")
    user = Path(args.user).read_text() if args.user else template_text("judge_user")
    llm = get_pipeline().llm
    if not hasattr(llm, "judge"):
        raise SystemExit("the configured model cannot judge (no token probabilities)")
    scored: dict[str, list[float]] = {"answers": [], "no answer": [], "wrong": []}
    for item in json.loads(Path(args.report).read_text())["items"]:
        if item["refused"] or not item.get("quotes"):
            continue
        text = user.format(sentence=" ".join(item["quotes"][0].split()), question=item["question"], history="")
        scored[label(item)].append(llm.judge(system.strip(), text)[0])
    pos, neg, wrong = scored["answers"], scored["no answer"], scored["wrong"]
    print(f"{args.report}: judged {len(pos)} answers, {len(neg)} no answer, {len(wrong)} wrong")
    print(f"AUC answers vs no answer {auc(pos, neg):.3f}; answers vs the rest {auc(pos, neg + wrong):.3f}")
    print("| P(Yes) below | answers rejected | no answer rejected | wrong rejected | net passes |")
    print("| --- | --- | --- | --- | --- |")
    for t in THRESHOLDS:
        a, n, w = (sum(p < t for p in xs) for xs in (pos, neg, wrong))
        print(f"| {t} | {a} | {n} | {w} | {n - a:+d} |")


if __name__ == "__main__":
    main()
