"""Splits, the corpus registry, the new metrics, `qa eval --all` and report.html (rendered in headless Chromium)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from qa.errors import QAError
from qa.evaluation import metrics as m
from qa.evaluation.corpora import load_registry, pick
from qa.evaluation.dataset import Item, fact_matches, load_items, select_split
from qa.evaluation.runner import ItemResult, aggregate, run_items, score
from qa.evaluation.summary import CorpusOutcome, gate_lines, markdown, rows
from qa.ingest import indexer
from qa.models import Answer, Citation

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ALPHA = "The Tollen bridge reopened on March 4, 2024. The council voted 5 to 2 for the new piles.\n"
BETA = "# Kettle\n\nThe kettle holds 1.7 litres. A later leaflet says it holds 1.8 litres.\n"


@pytest.mark.parametrize("text", [
    "See ![logo](img/logo.png) for details.", "[![build](https://ci/badge.svg)](https://ci)",
    "Read [the guide](https://example.org/guide).", "It holds <img src='x.png'> water.", "Line<br>break",
    "<a href='x'>link</a>", "<p>Para</p>", "<div class='x'>", "text</span> more", "[docs]: https://example.org/docs",
    "Intro.\n  [1]: /path/to/page",
])
def test_markup_is_detected(text):
    assert m.has_markup(text)


@pytest.mark.parametrize("text", [
    "The kettle holds 1.7 litres [1].", "Votes were 5 to 2 [1], [2].", "If a < b and c > d, nothing.",
    "See section [2] (page 4).", "Costs rose [1](2019 figures) sharply.", "Use <value> as a placeholder.",
])
def test_plain_answers_are_not_markup(text):
    assert not m.has_markup(text)


def test_a_conflict_account_needs_every_fact_in_the_answer_and_in_a_cited_quote():
    facts = ["1.7 litres", "re:1\\.8 ?litres"]
    both = ["The kettle holds 1.7 litres.", "A later leaflet says it holds 1.8 litres."]
    answer = "It holds 1.7 litres [1]. Another account: 1.8 litres [2]."
    assert m.conflict_account(answer, facts, both)
    assert not m.conflict_account(answer, facts, both[:1])  # the second account has no quote of its own
    assert not m.conflict_account("It holds 1.7 litres [1].", facts, both)  # the answer gives one account
    assert not m.conflict_account(answer, [], both)


def _item(id_: str, type_: str, facts: list[str], gold: list[str], split: str | None, answerable: bool = True) -> dict:
    d = {"id": id_, "type": type_, "question": f"question {id_}?", "history": [], "reference": " ".join(facts),
         "facts": facts, "gold": gold, "answerable": answerable}
    return d | ({"split": split} if split else {})


def _write_corpus(root: Path, name: str, items: list[dict]) -> tuple[Path, Path]:
    corpus = root / "corpora" / name
    corpus.mkdir(parents=True)
    (corpus / "alpha.txt").write_text(ALPHA)
    (corpus / "beta.md").write_text(BETA)
    qa_set = root / "sets" / f"{name}.jsonl"
    qa_set.parent.mkdir(exist_ok=True)
    qa_set.write_text("".join(json.dumps(i) + "\n" for i in items))
    return corpus, qa_set


ITEMS = [
    _item("d1", "single", ["March 4"], ["alpha.txt"], "dev"),
    _item("d2", "unanswerable", [], [], "dev", answerable=False),
    _item("h1", "conflict", ["1.7 litres", "1.8 litres"], ["beta.md"], "heldout"),
    _item("h2", "paraphrase", ["5 to 2"], ["alpha.txt"], "heldout"),
    _item("u1", "single", ["re:5 to 2"], ["alpha.txt"], None),
]


def test_items_carry_their_split_and_select_by_it(tmp_path):
    _, qa_set = _write_corpus(tmp_path, "c", ITEMS)
    items = load_items(qa_set)
    assert [i.split_label for i in items] == ["dev", "dev", "heldout", "heldout", "unsplit"]
    assert [i.id for i in select_split(items, "dev")] == ["d1", "d2"]
    assert [i.id for i in select_split(items, "heldout")] == ["h1", "h2"]
    assert len(select_split(items, "all")) == 5
    qa_set.write_text(json.dumps(_item("x", "single", ["a"], ["alpha.txt"], "test")) + "\n")
    with pytest.raises(QAError, match="unknown split 'test'"):
        load_items(qa_set)


def test_the_shipped_registry_names_every_corpus_and_reports_the_absent_ones(monkeypatch):
    monkeypatch.chdir(ROOT)
    registry = load_registry()
    assert list(registry) == ["seeds", "seeds_dev", "seeds_fresh", "wrenhaven", "news", "report", "readmes"]
    seeds = registry["seeds"]
    assert seeds.gate and seeds.missing() is None and seeds.store == Path(".qa/eval/seeds")
    assert seeds.bounds("qa")["min"]["pass_rate"] > 0.5 and seeds.bounds("naive")["max"] == {"phantom_citations": 0}
    assert sum(e.gate for e in registry.values()) >= 2
    assert registry["news"].set == Path("eval/sets/news.jsonl") and registry["news"].store == Path(".qa/eval/news")
    for entry in registry.values():
        if entry.missing():
            assert "not found" in entry.missing()
        if entry.gate:
            assert entry.bounds("qa")["min"] or entry.bounds("qa")["max"]
    with pytest.raises(QAError, match="unknown corpus 'nope'"):
        pick(registry, "nope")


@pytest.mark.parametrize("toml,error", [
    ('[a]\ncorpus = "c"\n', "`set`"),
    ('[a]\ncorpus = "c"\nset = "s"\ngate = true\n', "gated but has no"),
    ('[a]\ncorpus = "c"\nset = "s"\nstorage = "x"\n', "unknown setting"),
    ('[a]\ncorpus = "c"\nset = "s"\n[a.qa.min]\npass_rate = "high"\n', "must be numbers"),
    ("[a\n", "corpora.toml"),
])
def test_a_bad_registry_is_a_one_line_error(tmp_path, toml, error):
    path = tmp_path / "corpora.toml"
    path.write_text(toml)
    with pytest.raises(QAError, match=re.escape(error)):
        load_registry(path)


def _quote(text: str, fact: str) -> tuple[int, int]:
    if fact.startswith("re:"):
        found = re.search(fact[3:], text, re.IGNORECASE)
        assert found
        return found.span()
    start = text.lower().index(fact.lower())
    return start, start + len(fact)


def scripted_answer(item: Item, corpus: Path) -> Answer:
    """An answer that states each fact with a citation quoting it exactly in its gold file (refuses unanswerables)."""
    if not item.answerable:
        return Answer(item.question, "The sources do not say.", refused=True, timings={"total": 0.2, "first_token": 0.2})
    cites, parts = [], []
    for n, fact in enumerate(item.facts, 1):
        src = next(g for g in item.gold if fact_matches(fact, (corpus / g).read_text()))
        text = (corpus / src).read_text()
        a, b = _quote(text, fact)
        cites.append(Citation(n, src, text[a:b], a, b, f"{src}:0"))
        parts.append(f"{text[a:b]} [{n}].")
    return Answer(item.question, " ".join(parts), cites,
                  timings={"total": 1.0 + len(item.id) / 10, "first_token": 0.5, "prompt_tokens": 300.0, "model_calls": 2.0})


def scored(corpus: Path, items: list[Item]) -> list[ItemResult]:
    """Real scoring of scripted answers (the last answerable one misses its facts)."""
    results = [score(i, scripted_answer(i, corpus), i.gold, corpus, lambda a, b: 0.0) for i in items]
    wrong = next(i for i in reversed(items) if i.answerable and i.type != "conflict")
    results[items.index(wrong)] = score(wrong, Answer(wrong.question, "No idea, see ![x](http://x)."), [], corpus,
                                        lambda a, b: 0.0)
    return results


def test_scores_of_scripted_answers(tmp_path):
    corpus, qa_set = _write_corpus(tmp_path, "c", ITEMS)
    items = load_items(qa_set)
    results = scored(corpus, items)
    by_id = {r.id: r for r in results}
    assert by_id["h1"].conflict_account is True and by_id["d1"].conflict_account is None
    assert by_id["u1"].markup and not by_id["u1"].correct
    agg = aggregate(results)
    assert agg["conflict_accounts"] == 1.0 and agg["markup_answers"] == 1.0 and agg["errors"] == 0.0
    assert agg["prompt_tokens"] == 300.0 and agg["model_calls"] == 2.0
    assert agg["correct_with_gold_citation"] == pytest.approx(3 / 4) and agg["refusal_recall"] == 1.0
    dev_only = aggregate([r for r in results if r.split == "heldout"])
    assert dev_only["refusal_recall"] is None  # no unanswerable item measures it


def test_progress_bar_and_verbose_item_lines(tmp_path, capsys):
    corpus, qa_set = _write_corpus(tmp_path, "c", ITEMS)
    items = load_items(qa_set)[:2]
    run_items(items, lambda i: scripted_answer(i, corpus), lambda q: ["alpha.txt"], corpus, lambda a, b: 0.0,
              label="c", verbose=True)
    err = capsys.readouterr().err
    assert re.search(r"d1\s+pass", err) and re.search(r"d2\s+pass", err)
    assert "pass 2/2 = 1.00" in err and "c: 100%" in err


def test_summary_has_a_row_per_corpus_and_split_and_names_the_missing(tmp_path):
    corpus, qa_set = _write_corpus(tmp_path, "c", ITEMS)
    results = scored(corpus, load_items(qa_set))
    outcomes = [CorpusOutcome("one", True, "ran", results=results, aggregate=aggregate(results),
                              violations=["pass_rate = 0.800 < min 0.9"]),
                CorpusOutcome("gone", True, "missing", "missing: corpus folder eval/corpora/gone not found")]
    table = rows(outcomes, "all")
    assert [(r["corpus"], r["split"]) for r in table] == [("one", "unsplit"), ("one", "dev"), ("one", "heldout"),
                                                          ("gone", "—")]
    text = markdown(table)
    assert "| correct + gold cite |" in text.splitlines()[0] and "not found" in text
    assert gate_lines(outcomes) == ["gate one: BROKEN: pass_rate = 0.800 < min 0.9",
                                    "gate gone: not checked (missing: corpus folder eval/corpora/gone not found)"]
    assert outcomes[0].broken and not outcomes[1].broken


def _registry(tmp_path: Path, pass_min: float) -> Path:
    _write_corpus(tmp_path, "one", ITEMS)
    _write_corpus(tmp_path, "two", ITEMS[:2])
    path = tmp_path / "corpora.toml"
    path.write_text(
        f'[one]\ncorpus = "corpora/one"\nset = "sets/one.jsonl"\nstore = "stores/one"\ngate = true\n'
        f"[one.qa.min]\npass_rate = {pass_min}\n[one.qa.max]\nphantom_citations = 0\n"
        '[two]\ncorpus = "corpora/two"\nset = "sets/two.jsonl"\nstore = "stores/two"\n'
        '[gone]\ncorpus = "corpora/gone"\nset = "sets/gone.jsonl"\n')
    return path


@pytest.fixture
def scripted_cli(monkeypatch, tmp_path):
    """``qa eval`` whose answers come from ``scripted_answer`` (real ingest, stores and scoring)."""
    from qa.evaluation import cli

    def answerers(pipeline, kind):  # type: ignore[no-untyped-def]
        corpus = Path(pipeline.settings.corpus)
        return (lambda item: scripted_answer(item, corpus)), (lambda q: ["alpha.txt", "beta.md"])

    monkeypatch.setattr(cli, "_answerers", answerers)
    monkeypatch.chdir(tmp_path)
    for var in ("QA_CORPUS", "QA_STORE", "QA_CHROMA_URL"):
        monkeypatch.delenv(var, raising=False)
    return cli.main


def test_eval_all_runs_every_present_corpus_into_one_table(tmp_path, scripted_cli, capsys, monkeypatch):
    registry = _registry(tmp_path, pass_min=0.5)
    assert scripted_cli(["--all", "--registry", str(registry), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "eval/results/all/summary.json").read_text())
    assert [(r["corpus"], r["split"], r.get("n")) for r in summary["rows"]] == [
        ("one", "unsplit", 1.0), ("one", "dev", 2.0), ("one", "heldout", 2.0), ("two", "dev", 2.0), ("gone", "—", None)]
    assert summary["corpora"]["gone"]["status"] == "missing"
    assert summary["corpora"]["one"]["aggregate"]["conflict_accounts"] == 1.0
    assert (tmp_path / "eval/results/all/one/report.html").is_file()
    out = capsys.readouterr().out
    assert "| one | heldout | 2 |" in out and "gate one: ok" in out
    assert (tmp_path / "eval/results/all/summary.md").read_text().count("| one |") == 3

    # a second run embeds nothing: each corpus keeps its own store
    calls: list[int] = []
    real = indexer.embed
    monkeypatch.setattr(indexer, "embed", lambda texts: calls.append(len(texts)) or real(texts))
    assert scripted_cli(["--corpus", "two", "--registry", str(registry), "--split", "dev", "--no-progress"]) == 0
    assert calls == [] and (tmp_path / "stores/two").is_dir()
    assert "split dev" in (tmp_path / "eval/results/corpora/two/report.md").read_text()


def test_eval_all_fails_when_a_gated_corpus_breaks_its_bounds(tmp_path, scripted_cli, capsys):
    registry = _registry(tmp_path, pass_min=1.01)
    assert scripted_cli(["--gated", "--registry", str(registry), "--split", "heldout", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "gate one: BROKEN: pass_rate = 1.000 < min 1.01" in captured.out
    rows_ = json.loads((tmp_path / "eval/results/gated/summary.json").read_text())["rows"]
    assert [(r["corpus"], r["split"]) for r in rows_] == [("one", "heldout")]  # --gated: only gate = true


@pytest.mark.parametrize("argv,message", [
    (["--corpus", "nope"], "unknown corpus 'nope'"),
    (["--corpus", "gone"], "corpus gone: corpus folder corpora/gone not found"),
    (["--corpus", "one", "--set", "x.jsonl"], "--set is for a single --set run"),
    (["--corpus", "two", "--split", "heldout"], "no item of split 'heldout'"),
    (["--all", "--limit", "0"], "--limit must be at least 1"),
])
def test_eval_usage_errors_exit_2(tmp_path, scripted_cli, capsys, argv, message):
    registry = _registry(tmp_path, pass_min=0.5)
    assert scripted_cli([*argv, "--registry", str(registry)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def _write_fixture_report(out: Path, tmp_path: Path) -> Path:
    from qa.evaluation.columns import baseline_aggregate
    from qa.evaluation.report import write_reports

    corpus, qa_set = _write_corpus(tmp_path, "c", ITEMS)
    results = scored(corpus, load_items(qa_set))
    baseline = json.loads((ROOT / "eval" / "results" / "baseline.json").read_text())
    write_reports(out, "pipeline `qa`, scripted answers over a two-file corpus", results,
                  baseline_aggregate(baseline, "all"), "all")
    return out / "report.html"


def test_report_files_hold_every_section(tmp_path):
    page = _write_fixture_report(tmp_path / "out", tmp_path).read_text()
    for heading in ("Per split", "Per type", "Charts", "Against the baseline", "Failed items"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") == 3 and 'class="worse"' in page and 'class="better"' in page
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(doc["per_split"]) == {"unsplit", "dev", "heldout"} and doc["items"][0]["split"] == "dev"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_report_html_renders_in_headless_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = _write_fixture_report(tmp_path / "out", tmp_path)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            assert len(widths) == 3 and all(w > 0 for w in widths)
            headings = page.locator("h2").all_inner_texts()
            assert headings == ["Per split", "Per type", "Charts", "Against the baseline", "Failed items"]
            assert page.locator("table").count() == 3
            assert page.locator("table").nth(2).locator("td.worse, td.better").count() > 0
            assert "u1" in page.locator("ul").last.inner_text()
            page.screenshot(path=str(artifacts / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (artifacts / "report.png").stat().st_size > 10_000


def test_thresholds_read_from_the_registry_or_an_old_style_file(tmp_path):
    from qa.evaluation.gate import load_thresholds, violations

    old = tmp_path / "thresholds.toml"
    old.write_text("[qa.min]\npass_rate = 0.9\n[qa.max]\nerrors = 0\n")
    assert load_thresholds(old, "qa", "seeds") == {"min": {"pass_rate": 0.9}, "max": {"errors": 0}}
    assert load_thresholds(ROOT / "eval" / "corpora.toml", "qa", "seeds")["max"]["phantom_citations"] == 0
    bounds = {"min": {"pass_rate": 0.9, "refusal_recall": 0.9, "nonsense": 1}, "max": {"errors": 0}}
    assert violations({"pass_rate": 0.8, "refusal_recall": None, "errors": 1.0}, bounds) == [
        "pass_rate = 0.800 < min 0.9", "refusal_recall: not measured (no item of this run measures it)",
        "nonsense: unknown metric", "errors = 1.000 > max 0"]
