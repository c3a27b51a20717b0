"""Incremental ingest against a real Chroma store and the real embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.components.vector_store import open_store
from qa.errors import QAError
from qa.ingest.indexer import ingest


def _write(corpus: Path, name: str, text: str) -> None:
    (corpus / name).write_text(text, encoding="utf-8")


def test_incremental_add_skip_change_remove(tmp_settings):
    corpus = tmp_settings.corpus
    _write(corpus, "a.txt", "Alpha title\nThe alpha river floods every spring. Farmers plant rice after it.\n")
    _write(corpus, "b.md", "# Beta\nBeta town has a famous clock tower built in 1890.\n")
    store = open_store(tmp_settings)
    first = ingest(store, corpus, tmp_settings)
    assert sorted(first.added) == ["a.txt", "b.md"] and first.total_chunks >= 2

    again = ingest(store, corpus, tmp_settings)
    assert sorted(again.unchanged) == ["a.txt", "b.md"] and again.chunks_written == 0

    _write(corpus, "a.txt", "Alpha title\nThe alpha river is dry this year.\n")
    (corpus / "b.md").unlink()
    third = ingest(store, corpus, tmp_settings)
    assert third.updated == ["a.txt"] and third.removed == ["b.md"]
    texts = " ".join(p.text for p in store.all_passages())
    assert "dry this year" in texts and "floods" not in texts and "clock tower" not in texts
    assert set(store.indexed_files()) == {"a.txt"}


def test_changed_chunk_settings_chunk_the_files_again(tmp_settings):
    import dataclasses

    corpus = tmp_settings.corpus
    _write(corpus, "a.txt", "Alpha title\n" + " ".join(f"Sentence number {i} is here." for i in range(60)) + "\n")
    store = open_store(tmp_settings)
    first = ingest(store, corpus, tmp_settings)
    assert ingest(store, corpus, tmp_settings).unchanged == ["a.txt"]
    smaller = dataclasses.replace(tmp_settings, chunk_tokens=60, chunk_overlap=12)
    again = ingest(store, corpus, smaller)
    assert again.updated == ["a.txt"] and again.total_chunks > first.total_chunks
    assert ingest(store, corpus, smaller).unchanged == ["a.txt"]


def test_interrupted_ingest_is_repaired(tmp_settings):
    corpus = tmp_settings.corpus
    _write(corpus, "a.txt", "A title\n" + " ".join(f"Sentence number {i} is here." for i in range(200)) + "\n")
    store = open_store(tmp_settings)
    ingest(store, corpus, tmp_settings)
    expected = store.count()
    # simulate a crash after some chunks were written but before the manifest commit
    store.files.delete(ids=["a.txt"])
    store.chunks.delete(ids=[store.chunks.get()["ids"][0]])
    report = ingest(store, corpus, tmp_settings)
    assert report.updated == ["a.txt"]
    assert store.count() == expected
    ids = store.chunks.get()["ids"]
    assert len(ids) == len(set(ids))


def test_bad_files_are_reported_and_the_rest_indexed(tmp_settings):
    corpus = tmp_settings.corpus
    _write(corpus, "good.txt", "Good\nThe good file mentions a lighthouse.\n")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (corpus / "empty.md").write_text("   \n")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 story\nThe caf\xe9 opened in 1990.\n".encode("latin-1"))
    (corpus / "loop").symlink_to(corpus)
    report = ingest(open_store(tmp_settings), corpus, tmp_settings)
    skipped = {s.source: s.reason for s in report.skipped}
    assert "binary.txt" in skipped and "empty.md" in skipped
    assert set(report.added) == {"good.txt", "latin1.txt"}


def test_missing_corpus_is_a_clear_error(tmp_settings, tmp_path):
    with pytest.raises(QAError, match="corpus folder not found"):
        ingest(open_store(tmp_settings), tmp_path / "nope", tmp_settings)


def test_whole_store_reads_are_paged(seed_pipeline, monkeypatch):
    # one unpaged get() of ~100k chunks fails in Chroma ("too many SQL variables"): reads go page by page
    import qa.components.vector_store as vs

    store = seed_pipeline.store
    whole = {p.chunk_id for p in store.all_passages()}
    monkeypatch.setattr(vs, "PAGE", 7)
    paged = store.all_passages()
    assert {p.chunk_id for p in paged} == whole and len(paged) == len(whole) == store.count()
    assert sum(store.chunk_counts().values()) == store.count() and len(store.indexed_files()) == 5
