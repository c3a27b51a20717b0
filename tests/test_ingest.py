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


def _articles(corpus: Path, n: int, prefix: str = "f") -> list[str]:
    names = [f"{prefix}{i}.txt" for i in range(n)]
    for i, name in enumerate(names):
        _write(corpus, name, f"File {prefix}{i}\nThe harbour of town {i} opened in year {1900 + i}. Boats came.\n")
    return names


def _spy(store, monkeypatch, calls: list[tuple[str, list]], *names: str) -> None:
    """Record each call of these methods of the real ``store`` (name, first argument), then make it."""
    for name in names:
        real = getattr(store, name)

        def spy(arg, *rest, _name=name, _real=real):
            calls.append((_name, arg))
            return _real(arg, *rest)

        monkeypatch.setattr(store, name, spy)


def test_several_files_are_written_per_upsert(tmp_settings, monkeypatch):
    _articles(tmp_settings.corpus, 6)
    store = open_store(tmp_settings)
    calls: list[tuple[str, list]] = []
    _spy(store, monkeypatch, calls, "delete_sources", "add_chunks", "add_records")
    report = ingest(store, tmp_settings.corpus, tmp_settings)
    assert len(report.added) == 6 and [n for n, _ in calls] == ["delete_sources", "add_chunks", "add_records"]
    assert calls[0][1] == [] and len(calls[1][1]) == len(calls[2][1]) == 6  # new files: nothing to delete
    _write(tmp_settings.corpus, "f2.txt", "File 2\nThe harbour of town 2 closed.\n")
    calls.clear()
    assert ingest(store, tmp_settings.corpus, tmp_settings).updated == ["f2.txt"]
    assert calls[0] == ("delete_sources", ["f2.txt"]) and [n for n, _ in calls[1:]] == ["add_chunks", "add_records"]


class Killed(BaseException):
    """Stands for the process being killed."""


def test_a_run_killed_between_a_batchs_chunks_and_its_records_is_repaired(tmp_settings, monkeypatch):
    from qa.retrieval.lexical_sync import open_index

    corpus = tmp_settings.corpus
    _articles(corpus, 2)
    store = open_store(tmp_settings)
    ingest(store, corpus, tmp_settings)
    _write(corpus, "f1.txt", "File 1\nThe harbour of town 1 was rebuilt in stone.\n")
    new = _articles(corpus, 4, prefix="n")

    def killed(records):
        raise Killed  # after the batch's chunks upsert, before its records

    monkeypatch.setattr(store, "add_records", killed)
    with pytest.raises(Killed):
        ingest(store, corpus, tmp_settings)
    monkeypatch.undo()
    assert set(store.indexed_files()) == {"f0.txt"}  # f1's old record went first; no new record committed
    assert set(store.chunk_counts()) == {"f0.txt", "f1.txt", *new}  # the batch's chunks are in

    report = ingest(store, corpus, tmp_settings)
    assert report.updated == ["f1.txt", *new] and report.unchanged == ["f0.txt"] and not report.added
    manifest, counts = store.indexed_files(), store.chunk_counts()
    assert {s: r.chunks for s, r in manifest.items()} == counts and set(counts) == {"f0.txt", "f1.txt", *new}
    ids = store.chunks.get()["ids"]
    assert len(ids) == len(set(ids)) == sum(counts.values())
    assert "rebuilt in stone" in " ".join(p.text for p in store.file_passages("f1.txt"))
    assert ingest(store, corpus, tmp_settings).unchanged == ["f0.txt", "f1.txt", *new]
    index = open_index(store)
    assert index.files() == {s: (r.sha256, r.chunks) for s, r in manifest.items()} and index.meta()["dirty"] == "0"
    index.close()
