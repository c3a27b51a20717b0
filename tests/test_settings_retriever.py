"""Configuration names are a contract; the retriever is a LangChain retriever with hybrid, diverse results."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import QAError
from qa.retrieval.hybrid import fuse
from qa.settings import load_settings


def test_env_vars_and_toml(monkeypatch, tmp_path):
    (tmp_path / "qa.toml").write_text('llm_preset = "smollm2"\nk = 5\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_CORPUS", "docs")
    monkeypatch.setenv("QA_STORE", "st")
    monkeypatch.setenv("QA_LLM", "openai")
    monkeypatch.setenv("QA_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("QA_OPENAI_MODEL", "m")
    monkeypatch.setenv("QA_CHROMA_URL", "http://127.0.0.1:8001")
    s = load_settings()
    assert (s.corpus, s.store, s.llm, s.llm_preset, s.k) == (Path("docs"), Path("st"), "openai", "smollm2", 5)
    assert (s.openai_base_url, s.openai_model, s.chroma_url) == ("http://127.0.0.1:9/v1", "m", "http://127.0.0.1:8001")
    monkeypatch.setenv("QA_LLM_PRESET", "qwen1.5b")
    assert load_settings().llm_preset == "qwen1.5b"  # env beats qa.toml
    assert load_settings(k=3).k == 3  # overrides beat env


@pytest.mark.parametrize("bad", [{"llm": "gpt"}, {"llm_preset": "big"}, {"k": "many"}, {"nope": 1}])
def test_bad_settings_are_clear_errors(bad):
    with pytest.raises(QAError):
        load_settings(**bad)


def test_fusion_prefers_agreement_and_spreads_files():
    from qa.models import Passage

    def p(src: str, i: int) -> Passage:
        return Passage(src, "", "t", i, i + 1, f"{src}:{i}")

    dense = [p("a", 0), p("a", 1), p("a", 2), p("b", 0)]
    lexical = [p("a", 1), p("b", 0), p("a", 0), p("c", 0)]
    top = fuse([dense, lexical], 3)
    assert top[0].chunk_id in ("a:0", "a:1")
    assert {x.source for x in top} >= {"a", "b"}


def test_retriever_is_a_langchain_retriever_with_k(seed_pipeline):
    retriever = seed_pipeline.retriever
    docs = retriever.invoke("Marg Bar Sarmachar operation codename")
    assert len(docs) == retriever.k
    assert docs[0].metadata["source"] == "004_df5bf45f4cf73b0f.txt"
    assert len(retriever.invoke("Marg Bar Sarmachar", k=2)) == 2
    text = (seed_pipeline.settings.corpus / docs[0].metadata["source"]).read_text()
    assert text[docs[0].metadata["start"] : docs[0].metadata["end"]] == docs[0].page_content


def test_retriever_sees_an_ingest_made_by_another_process(tmp_settings):
    import os
    import subprocess
    import sys

    from qa.answer.pipeline import Pipeline

    (tmp_settings.corpus / "a.txt").write_text("Title A\n\nThe harbour of Quillonport reopened in May.\n")
    (tmp_settings.corpus / "c.txt").write_text("Title C\n\nA dry summer lowered the river.\n")
    reader = Pipeline(tmp_settings)
    reader.ingest()
    assert reader.retriever.search("Quillonport harbour", 1)[0].source == "a.txt"
    (tmp_settings.corpus / "b.txt").write_text("Title B\n\nZephyrine caravans crossed the Oxmere pass.\n")
    env = {"QA_CORPUS": str(tmp_settings.corpus), "QA_STORE": str(tmp_settings.store), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "qa.cli", "ingest"], capture_output=True, text=True,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    assert [p.source for p in reader.retriever.bm25().search("Zephyrine Oxmere", 5)] == ["b.txt"]


def test_cached_sentence_vectors_equal_fresh_ones(monkeypatch):
    import numpy as np

    from qa.components import embedding

    texts = ["Trucks crossed at Taftan.", "Iran recalled its ambassador.", "Trucks crossed at Taftan."]
    fresh = embedding.embed(texts)
    cached = embedding.embed_cached(texts)
    assert cached.shape == fresh.shape and np.allclose(cached, fresh, atol=1e-5)
    monkeypatch.setattr(embedding, "embed", lambda _: (_ for _ in ()).throw(AssertionError("re-encoded")))
    assert np.allclose(embedding.embed_cached(texts[::-1]), fresh[::-1], atol=1e-5)  # all from the cache
