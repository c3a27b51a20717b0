"""bench.latency's (and bench.judge_auc's and bench.self_judge's) arithmetic and tables on fixed numbers,
bench.scale --restart's plumbing and bench.grammar_sampling on a real small model (no timing is asserted here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench.latency import HostSpeed, by_path, main, markdown, ratio, results_entry, stats

ROOT = Path(__file__).resolve().parents[1]
OURS = [{"total": 4.0, "first_token": 2.0, "prompt_tokens": 300.0, "model_calls": 2.0},
        {"total": 6.0, "first_token": 3.0, "prompt_tokens": 500.0, "model_calls": 1.0},
        {"total": 10.0, "first_token": 5.0, "prompt_tokens": 400.0, "model_calls": 3.0}]
TUTORIAL = [{"total": 8.0, "first_token": 4.0, "prompt_tokens": 1000.0, "model_calls": 1.0},
            {"total": 12.0, "first_token": 6.0, "prompt_tokens": 1200.0, "model_calls": 1.0},
            {"total": 20.0, "first_token": 10.0, "prompt_tokens": 1100.0, "model_calls": 1.0}]


def test_host_speed_is_the_mean_of_both_measures_and_normalises_to_40_tok_s():
    host = HostSpeed(read_start=90.0, read_end=70.0, write_start=10.0, write_end=12.0)
    assert host.read == 80.0 and host.write == 11.0
    assert host.factor == 2.0  # a host reading 80 tok/s is twice as fast as the 40 tok/s reference


def test_stats_take_percentiles_and_means_of_the_timings():
    s = stats("qa", OURS)
    assert (s.n, s.prompt_tokens, s.model_calls) == (3, 400.0, 2.0)
    assert (s.first_p50, s.first_p95, s.whole_p50, s.whole_p95) == (3.0, 5.0, 6.0, 10.0)
    bare = stats("x", [{"total": 2.0}, {"total": 4.0}])
    assert bare.prompt_tokens is None and bare.model_calls is None and bare.first_p50 == 2.0  # first text = whole
    assert ratio(3.0, 6.0) == 0.5 and ratio(1.0, 0.0) is None


def test_the_table_shows_raw_normalised_and_ratios():
    host = HostSpeed(90.0, 70.0, 10.0, 12.0)
    text = markdown(host, stats("qa", OURS), stats("naive (LangChain tutorial)", TUTORIAL))
    assert text.startswith("Host: reads 80 prompt tok/s (start 90, end 70), writes 11.0 tok/s (start 10.0, end 12.0)")
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")]
    rows = {row[0]: row[1:] for row in cells}
    # answers, prompt tok, calls, first raw, whole raw, first @40, whole @40 (x 2: this host reads twice as fast)
    assert rows["qa"] == ["3", "400", "2.0", "3.00 / 5.00", "6.00 / 10.00", "6.00 / 10.00", "12.00 / 20.00"]
    assert rows["naive (LangChain tutorial)"] == ["3", "1100", "1.0", "6.00 / 10.00", "12.00 / 20.00", "12.00 / 20.00",
                                                  "24.00 / 40.00"]
    assert rows["qa / naive (LangChain tutorial)"] == ["", "0.36x", "", "0.50x / 0.50x", "0.50x / 0.50x",
                                                       "0.50x / 0.50x", "0.50x / 0.50x"]


def test_by_path_parts_answers_from_the_lead_and_widened_ones():
    timings = [{"first_progress": 0.2, "first_token": 2.0, "p_none_lead": 0.1},
               {"first_progress": 0.4, "first_token": 6.0, "p_none_lead": 0.3, "widened": 1.0},
               {"first_progress": 0.3, "first_token": 3.0}]  # one reading: neither path
    line = by_path(timings, 2.0)
    assert "first progress shown p50 0.30 s (0.60 s @40)" in line
    assert "from the lead (1) 2.00 s (4.00 s @40), of widened ones (1) 6.00 s (12.00 s @40)" in line


def test_results_entry_is_dated_and_names_the_command():
    entry = results_entry(dt.datetime(2026, 11, 25, 9, 30), "python -m bench.latency --limit 2", "preset smollm2", "T")
    assert entry.startswith("\n## Latency, 2026-11-25 09:30 (bench.latency)\n")
    assert "`python -m bench.latency --limit 2` (preset smollm2)" in entry and entry.endswith("T\n")


def test_an_unknown_corpus_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["--corpus", "nope", "--no-append"]) == 2
    assert capsys.readouterr().err.strip().startswith("bench.latency: error: unknown corpus 'nope'")


@pytest.mark.parametrize("argv", [["--corpus", "absent"], ["--corpus", "seeds", "--split", "dev"]])
def test_a_missing_corpus_or_an_empty_split_is_an_error(monkeypatch, capsys, tmp_path, argv):
    monkeypatch.chdir(ROOT)
    registry = tmp_path / "corpora.toml"
    registry.write_text('[seeds]\ncorpus = "seeds"\nset = "eval/qa_set.jsonl"\n\n'
                        f'[absent]\ncorpus = "{tmp_path / "nowhere"}"\nset = "{tmp_path / "none.jsonl"}"\n')
    assert main([*argv, "--registry", str(registry), "--no-append"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_judge_auc_ranks_and_labels():
    from bench.judge_auc import auc, label

    assert auc([0.9, 0.8], [0.1, 0.8]) == 0.875  # one tie counts half
    assert label({"answerable": False, "passed": False}) == "no answer"
    assert [label({"answerable": True, "passed": p}) for p in (True, False)] == ["answers", "wrong"]


def test_the_restart_benchmark_runs_end_to_end_on_a_small_store(tmp_path):
    """bench.scale --restart's and --grow's pieces (a store built in a subprocess, a fresh process preparing two
    questions, new files ingested into a copy of the store) keep working as the pipeline's timings change; what
    they measure is not asserted."""
    import json
    import os
    import subprocess
    import sys

    from bench.scale import RESTART_HEADER, grow, restart, restart_row

    cmd = [sys.executable, "-m", "bench.scale", "--build", "40", "--workdir", str(tmp_path)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert out.returncode == 0, out.stderr[-2000:]
    built = json.loads(out.stdout.strip().splitlines()[-1])
    r = restart(tmp_path, 1, ROOT)
    assert built["chunks"] > 20 and r["first_prepare_s"] > 0 and r["warm_up_s"] == 0.0
    assert restart_row(built, r).count("|") == RESTART_HEADER.splitlines()[1].count("|")
    g = grow(tmp_path, 3, ROOT)
    assert g["added"] == 3 and g["total"] == built["chunks"] + g["chunks_written"] and g["chunks_written"] > 0


def test_the_grammar_sampling_benchmark_names_an_unknown_corpus(capsys):
    from bench.grammar_sampling import main as sampling_main

    assert sampling_main(["--corpus", "nope"]) == 2
    assert capsys.readouterr().err.startswith("bench.grammar_sampling: error: unknown corpus 'nope'")


@pytest.mark.llm
def test_the_grammar_sampling_benchmark_writes_the_same_draft_both_ways(seed_pipeline):
    from bench.grammar_sampling import masked, write_all
    from qa.answer.evidence import render
    from qa.answer.reader import user_message
    from qa.components import llamacpp_chat

    top_first = llamacpp_chat.greedy
    prep = seed_pipeline.prepare("Who offered to mediate between Iran and Pakistan?", [])
    prompts = [(user_message(prep.question, render(prep.lead), []), len(prep.lead))]
    (_, a), (_, b) = (write_all(seed_pipeline.llm, prompts, way, 40) for way in (masked, top_first))
    assert a == b and a[0].strip()
    assert llamacpp_chat.greedy is top_first  # the pipeline's own writer is put back


def test_self_judge_table_scores_each_judge_on_the_same_claims():
    from bench.self_judge import ASKS, table

    rows = [{"good": g, "standalone": s, "standalone_tok": 50, **{n: c for n in ASKS}, **{f"{n}_tok": 25 for n in ASKS}}
            for g, s, c in [(True, 0.9, 0.6), (True, 0.7, 0.6), (False, 0.2, 0.6)]]
    lines = table(rows).splitlines()
    assert lines[0] == "3 claims, 2 good"
    cells = {r[0]: r[1:] for r in ([c.strip() for c in line.strip("|").split("|")] for line in lines[4:])}
    assert cells["standalone"][:2] == ["1.000", "50"] and cells["standalone"][2:5] == ["2 / 0", "2 / 0", "2 / 0"]
    assert all(cells[n][:2] == ["0.500", "25"] for n in ASKS)  # every claim judged alike: chance


def test_self_judge_on_an_unknown_corpus_is_a_one_line_error(monkeypatch, capsys):
    from bench.self_judge import main as self_judge

    monkeypatch.chdir(ROOT)
    assert self_judge(["--corpus", "nope"]) == 2
    assert capsys.readouterr().err.strip().startswith("bench.self_judge: error: unknown corpus 'nope'")
