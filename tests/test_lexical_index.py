"""The persisted lexical index (SQLite FTS5 beside the store), against real Chroma and the real embedder."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qa.answer.pipeline import Pipeline
from qa.retrieval import lexical_sync
from qa.retrieval.lexical_index import LexicalIndex
from qa.retrieval.lexical_sync import index_path

QUERIES = ("harbour reopened in May", "caravans crossed the pass", "river lowered by a dry summer", "tower clock 1890",
           "ferry timetable winter")
FILES = {
    "a.txt": "Harbour news\n\nHARBOUR WORKS\nThe harbour of Quillonport reopened in May after dredging.\n"
             "Ferries resumed their winter timetable.\n",
    "b.md": "# Caravans\n\nZephyrine caravans crossed the Oxmere pass.\n\n## Weather\nA dry summer lowered the river.\n",
    "c.txt": "Clock tower\n\nThe clock tower of Beta town was built in 1890 and restored in 1990.\n",
}


def _write(corpus: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")


def _snapshot(pipeline: Pipeline) -> dict[str, object]:
    """Everything the answer pipeline reads from the lexical index."""
    index = pipeline.retriever.bm25()
    return {
        "search": {q: [(p.chunk_id, p.source, p.start, p.end, p.text, p.score) for p in index.search(q, 10)]
                   for q in QUERIES},
        "idf": index.idf, "vocabulary": index.vocabulary, "words": index.words,
        "sections": {s: [index.section(s, at) for at in range(0, 200, 7)] for s in sorted(index.index.files())},
        "files": index.index.files(),
    }


def _rebuilt(settings) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The snapshot of an index rebuilt from scratch from the same store."""
    index_path(settings).unlink()
    before = lexical_sync.REBUILDS["count"]
    snap = _snapshot(Pipeline(settings))
    assert lexical_sync.REBUILDS["count"] == before + 1
    return snap


@pytest.fixture
def indexed(tmp_settings) -> Pipeline:
    _write(tmp_settings.corpus, FILES)
    pipeline = Pipeline(tmp_settings)
    pipeline.ingest()
    return pipeline


def test_a_new_process_answers_from_the_persisted_index_without_rebuilding(indexed):
    settings = indexed.settings
    expected = [p.chunk_id for p in indexed.retriever.search("Quillonport harbour dredging", 3)]
    before = lexical_sync.REBUILDS["count"]
    assert _snapshot(Pipeline(settings)) == _snapshot(indexed) and lexical_sync.REBUILDS["count"] == before
    script = ("import json; from qa.answer.pipeline import Pipeline; from qa.retrieval import lexical_sync;"
              "from qa.settings import load_settings;"
              f"p = Pipeline(load_settings(corpus={str(settings.corpus)!r}, store={str(settings.store)!r}));"
              "ids = [x.chunk_id for x in p.retriever.search('Quillonport harbour dredging', 3)];"
              "print(json.dumps([ids, lexical_sync.REBUILDS['count']]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [expected, 0]
    assert "rebuilding" not in out.stderr


@pytest.mark.parametrize("batch", [1, lexical_sync.IngestWriter.BATCH_FILES])
def test_incremental_ingest_keeps_bm25_identical_to_a_rebuild(indexed, batch, monkeypatch):
    monkeypatch.setattr(lexical_sync.IngestWriter, "BATCH_FILES", batch)  # a commit per file, or one per run
    corpus = indexed.settings.corpus
    _write(corpus, {"d.txt": "Ferry news\n\nThe winter ferry timetable adds a harbour stop at Quillonport.\n",
                    "a.txt": "Harbour news\n\nHARBOUR WORKS\nThe harbour of Quillonport stays closed until June.\n"})
    (corpus / "c.txt").unlink()
    report = indexed.ingest()
    assert (report.added, report.updated, report.removed) == (["d.txt"], ["a.txt"], ["c.txt"])
    incremental = _snapshot(indexed)
    assert "clock" not in incremental["vocabulary"] and "june" in incremental["words"]
    assert incremental["search"]["harbour reopened in May"][0][1] == "a.txt"
    assert _rebuilt(indexed.settings) == incremental


def test_bm25_scores_follow_the_fts5_formula_and_idf_the_okapi_one(seed_pipeline):
    from rank_bm25 import BM25Okapi

    from qa.text import terms

    passages = seed_pipeline.store.all_passages()
    docs = [terms(p.text) for p in passages]
    index = seed_pipeline.retriever.bm25()
    assert index.idf == pytest.approx(BM25Okapi(docs).idf)
    n, avgdl = len(docs), sum(map(len, docs)) / len(docs)

    def fts5_bm25(query: list[str], doc: list[str]) -> float:  # sqlite's fts5 bm25(): k1 = 1.2, b = 0.75
        score = 0.0
        for t in query:
            df = sum(1 for d in docs if t in d)
            idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
            tf = doc.count(t)
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(doc) / avgdl))
        return score

    for q in ("code name of the retaliatory operation", "killed killed children", "Taftan border trade"):
        got = index.search(q, len(passages))
        expected = sorted(((fts5_bm25(terms(q), d), p.chunk_id) for p, d in zip(passages, docs, strict=True)
                           if set(terms(q)) & set(d)), reverse=True)
        assert [p.chunk_id for p in got] and len(got) == len(expected)
        assert [p.score for p in got] == pytest.approx([s for s, _ in expected])


@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated"])
def test_a_missing_or_corrupt_index_file_is_rebuilt(indexed, damage):
    expected = _snapshot(indexed)
    path = index_path(indexed.settings)
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"not a database, " * 300)
    else:
        path.write_bytes(path.read_bytes()[:1000])
    before = lexical_sync.REBUILDS["count"]
    assert _snapshot(Pipeline(indexed.settings)) == expected
    assert lexical_sync.REBUILDS["count"] == before + 1


@pytest.mark.parametrize("key", ["tokenizer", "chunking", "schema", "collection"])
def test_an_index_built_with_another_version_is_rebuilt(indexed, key, caplog):
    expected = _snapshot(indexed)
    LexicalIndex(index_path(indexed.settings)).set_meta(**{key: "old"})
    before = lexical_sync.REBUILDS["count"]
    with caplog.at_level("WARNING", logger="qa"):
        assert _snapshot(Pipeline(indexed.settings)) == expected
    assert lexical_sync.REBUILDS["count"] == before + 1
    assert [r.message for r in caplog.records].count(
        f"lexical index {index_path(indexed.settings)} was built with another {key}; rebuilding it from the store") == 1


def _crash_before_the_lexical_write(monkeypatch, pipeline: Pipeline) -> None:
    """Change a.txt and ingest with the lexical write failing right after Chroma's."""
    _write(pipeline.settings.corpus, {"a.txt": "Harbour news\n\nThe harbour of Quillonport silted up in March.\n"})

    def killed(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("killed")

    with monkeypatch.context() as m:
        m.setattr(LexicalIndex, "update", killed)
        with pytest.raises(KeyboardInterrupt):
            pipeline.ingest()
    assert "silted" in " ".join(p.text for p in pipeline.store.file_passages("a.txt"))


def test_an_ingest_killed_between_chroma_and_the_lexical_write_is_repaired_by_the_next_query(indexed, monkeypatch):
    _crash_before_the_lexical_write(monkeypatch, indexed)
    before = lexical_sync.REBUILDS["count"]
    fresh = Pipeline(indexed.settings)
    hits = fresh.retriever.bm25().search("harbour silted", 3)
    assert hits[0].source == "a.txt" and "silted" in hits[0].text
    assert "dredging" not in " ".join(p.text for p in fresh.retriever.bm25().search("dredging harbour", 10))
    assert lexical_sync.REBUILDS["count"] == before  # repaired file by file, not rebuilt
    assert _rebuilt(indexed.settings) == _snapshot(fresh)


def test_an_ingest_killed_between_chroma_and_the_lexical_write_is_repaired_by_the_next_run(indexed, monkeypatch):
    _crash_before_the_lexical_write(monkeypatch, indexed)
    report = indexed.ingest()
    assert report.chunks_written == 0  # Chroma was complete: only the lexical index needed the file again
    meta = LexicalIndex(index_path(indexed.settings)).meta()
    assert meta["dirty"] == "0" and meta["count"] == str(indexed.store.count())
    snap = _snapshot(indexed)
    assert snap["search"]["harbour reopened in May"][0][1] == "a.txt" and "silt" in snap["vocabulary"]
    assert _rebuilt(indexed.settings) == snap


def test_a_running_ingest_is_not_repaired_under_it(indexed):
    path = index_path(indexed.settings)
    index = LexicalIndex(path)
    index.set_meta(dirty=1)
    with lexical_sync.locked(path):  # as if an ingest held it
        assert lexical_sync.catch_up(index, indexed.store) == (index, False)
        assert index.meta()["dirty"] == "1"
    assert lexical_sync.catch_up(index, indexed.store) == (index, True)
    assert index.meta()["dirty"] == "0"


def test_the_index_lives_beside_the_store_and_per_chroma_server(tmp_settings):
    local = index_path(tmp_settings)
    assert local.parent.parent == tmp_settings.store and local.name == "qa_chunks.sqlite3"
    one = index_path(tmp_settings.replace(chroma_url="http://10.0.0.1:8000"))
    two = index_path(tmp_settings.replace(chroma_url="http://10.0.0.2:8000"))
    other = index_path(tmp_settings.replace(chroma_url="http://10.0.0.1:8000", collection="other"))
    assert len({local, one, two, other}) == 4
    # a server's local mirror lives in the cache beside the models: the (unused) local store path stays empty
    assert all(p.parent == tmp_settings.model_cache.parent / "lexical" for p in (one, two, other))


def test_vocabulary_and_words_counts_equal_the_fts5_vocabulary(indexed):
    corpus = indexed.settings.corpus
    (corpus / "b.md").unlink()
    _write(corpus, {"e.txt": "Extra\n\nZephyrine caravans rest at Quillonport in winter.\n"})
    indexed.ingest()
    con = sqlite3.connect(index_path(indexed.settings))
    con.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, lex, row)")
    assert dict(con.execute("SELECT term, doc FROM temp.v")) == dict(con.execute("SELECT term, df FROM vocab"))
    con.execute("INSERT INTO lex(lex, rank) VALUES('integrity-check', 1)")


def test_ingest_drops_the_word_vectors_an_earlier_version_kept_and_spelling_still_corrects(indexed):
    path = index_path(indexed.settings)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE word_vectors(word TEXT PRIMARY KEY, vector BLOB NOT NULL)")  # as written before
    con.commit()
    (indexed.settings.corpus / "c.txt").unlink()
    indexed.ingest()
    assert not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'word_vectors'").fetchone()
    con.close()
    index = Pipeline(indexed.settings).retriever.bm25()
    assert "1890" not in index.words and "tower" not in index.words
    assert index.correct_spelling("harbuor") == "harbour"
