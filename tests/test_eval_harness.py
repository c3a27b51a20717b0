"""The evaluation harness itself: metrics on tiny hand-made cases with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import QAError
from qa.evaluation import metrics as m
from qa.evaluation.dataset import Item, fact_gate, load_items
from qa.evaluation.gate import load_thresholds, violations
from qa.evaluation.runner import ItemResult, aggregate, score
from qa.models import Answer, Citation

ROOT = Path(__file__).resolve().parents[1]


def test_retrieval_metrics_on_known_rankings():
    ranked = ["b", "a", "b", "c"]
    assert m.hit_at_k(ranked, {"a"}, 1) == 0.0 and m.hit_at_k(ranked, {"a"}, 2) == 1.0
    assert m.recall_at_k(ranked, {"a", "c"}, 2) == 0.5 and m.recall_at_k(ranked, {"a", "c"}, 3) == 1.0
    assert m.mrr(ranked, {"c"}) == pytest.approx(1 / 3)
    # ideal: a gold file at rank 1; here at rank 2 → 1/log2(3)
    assert m.ndcg_at_k(ranked, {"a"}, 3) == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert m.ndcg_at_k(["a", "c"], {"a", "c"}, 2) == pytest.approx(1.0)


def test_facts_f1_and_citation_scores():
    assert m.facts_present("It was codenamed Marg Bar Sarmachar [1].", ["marg bar sarmachar"])
    assert m.facts_present("Two children died.", [r"re:\b(two|2)\b children"])
    assert not m.facts_present("Twenty children died.", [r"re:\b(two|2)\b children"])
    assert m.token_f1("the cat sat", "the cat sat") == 1.0 and m.token_f1("dog", "cat") == 0.0
    assert m.citation_pr(["a", "b"], {"a"}) == (0.5, 1.0)
    assert m.citation_pr([], {"a"}) == (0.0, 0.0)


def test_phantom_detection_against_the_file(tmp_path):
    (tmp_path / "f.txt").write_text("Alpha beta. Gamma delta.")
    good = {"n": 1, "source": "f.txt", "quote": "Gamma delta.", "start": 12, "end": 24}
    shifted = dict(good, start=11, end=23)
    missing = dict(good, source="nope.txt")
    escape = dict(good, source="../f.txt")
    assert m.phantom_count([good], tmp_path) == 0
    assert m.phantom_count([good, shifted, missing, escape], tmp_path) == 3


def test_phantom_detection_reads_an_html_page_as_its_text(tmp_path):
    from qa.ingest.loader import load

    (tmp_path / "p.html").write_text("<html><body><p>Tickets cost <b>$12</b> &amp; up.</p></body></html>")
    text = load(tmp_path / "p.html", tmp_path).text
    a = text.index("Tickets")
    b = text.index("up.") + 3
    quote = {"n": 1, "source": "p.html", "quote": text[a:b], "start": a, "end": b}
    assert quote["quote"] == "Tickets cost $12 & up."
    assert m.phantom_count([quote], tmp_path) == 0
    assert m.phantom_count([dict(quote, quote="Tickets cost $13 & up.")], tmp_path) == 1


def test_groundedness_uses_the_cited_quote():
    cites = [{"n": 1, "quote": "Over 100 trucks crossed at Taftan."}]
    always_far = lambda a, b: 0.0  # noqa: E731
    assert m.grounded_share("Over 100 trucks crossed at Taftan [1].", cites, always_far) == 1.0
    assert m.grounded_share("The moon is made of cheese [1].", cites, always_far) == 0.0
    assert m.grounded_share("Uncited claim.", cites, always_far) == 0.0


def test_refusal_scores():
    s = m.refusal_scores([True, True, False, False], [False, True, False, True])
    assert s == {"refusal_precision": 0.5, "refusal_recall": 0.5, "false_refusal": 0.5}


def test_fact_gate_names_the_item_with_a_typo(tmp_path):
    (tmp_path / "a.txt").write_text("The operation was codenamed Marg Bar Sarmachar.")
    good = Item("ok-1", "single", "q", "r", ["Marg Bar Sarmachar"], ["a.txt"], True)
    typo = Item("typo-7", "single", "q", "r", ["Marg Bar Sarmacher"], ["a.txt"], True)
    fact_gate([good], tmp_path)
    with pytest.raises(QAError, match="typo-7"):
        fact_gate([good, typo], tmp_path)


def test_shipped_qa_set_passes_the_gate_and_has_the_required_mix():
    items = load_items(ROOT / "eval" / "qa_set.jsonl")
    fact_gate(items, ROOT / "seeds")
    types = [i.type for i in items]
    assert len(items) >= 60
    assert types.count("unanswerable") >= 12 and types.count("multi_turn") >= 6
    assert all(types.count(t) >= 5 for t in ("single", "multi_source", "conflict", "paraphrase"))
    assert {g for i in items for g in i.gold} == {p.name for p in (ROOT / "seeds").glob("*.txt")}


def test_other_corpus_set_passes_the_gate():
    corpus = ROOT / "eval" / "corpora" / "wrenhaven"
    items = load_items(ROOT / "eval" / "other_set.jsonl")
    fact_gate(items, corpus)
    assert {g for i in items for g in i.gold} == {p.name for p in corpus.iterdir()}


def _results(refuse_unanswerable: bool) -> list[ItemResult]:
    corpus = ROOT / "seeds"
    src = "004_df5bf45f4cf73b0f.txt"
    text = (corpus / src).read_text()
    quote = "A number of terrorists were killed during the intelligence-based operation – codenamed ‘Marg Bar Sarmachar"
    start = text.index(quote)
    good = Answer("q", "It was Marg Bar Sarmachar [1].",
                  [Citation(1, src, quote, start, start + len(quote), f"{src}:0")])
    answerable = Item("a", "single", "q", "Marg Bar Sarmachar", ["Marg Bar Sarmachar"], [src], True)
    unanswerable = Item("u", "unanswerable", "q", "not said", [], [], False)
    said = Answer("q", "The sources do not say.", [], refused=True) if refuse_unanswerable else Answer("q", "Imran Khan won.")
    sim = lambda a, b: 0.0  # noqa: E731
    return [score(answerable, good, [src], corpus, sim), score(unanswerable, said, [], corpus, sim)]


def test_ci_gate_fails_when_refusals_are_forced_to_zero():
    thresholds = load_thresholds(ROOT / "eval" / "corpora.toml", "qa", "seeds")
    assert violations(aggregate(_results(refuse_unanswerable=True)), thresholds) == []
    broken = violations(aggregate(_results(refuse_unanswerable=False)), thresholds)
    assert any(b.startswith("refusal_recall") for b in broken)


def test_cli_exit_codes(tmp_path, monkeypatch):
    from qa.evaluation.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x1", "type": "single", "question": "q", "reference": "r",
                               "facts": ["no such phrase anywhere"], "gold": ["004_df5bf45f4cf73b0f.txt"],
                               "answerable": True}) + "\n")
    monkeypatch.setenv("QA_STORE", str(tmp_path / "store"))
    monkeypatch.chdir(ROOT)
    assert main(["--set", str(bad), "--out", str(tmp_path / "out")]) == 2
