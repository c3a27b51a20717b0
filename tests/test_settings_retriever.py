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
