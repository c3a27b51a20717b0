"""The persisted lexical index: SQLite FTS5 over pre-tokenized chunk terms, one file beside the store.

Tables (one transaction per file written, so a reader never sees half a file):

- ``chunks``: every chunk's text and metadata and its terms (``qa.text.terms``, space-joined);
  its ``id`` is a hash of the chunk id, so equal BM25 scores tie-break the same way however the
  index was built (incrementally or from scratch);
- ``lex``: an FTS5 table over ``chunks.terms`` (external content) that splits on whitespace only,
  so each indexed token is exactly one of our terms; ranked with FTS5's ``bm25()``;
- ``files``: per file its fingerprint, chunk count, section headings and distinct surface words;
- ``vocab``: document frequency per term; ``words``: per surface content word, the number of files
  using it (for spelling correction);
- ``meta``: schema, tokenizer and chunking versions, the store it mirrors, and the store's chunk
  count and generation when last brought in line with it (plus a ``dirty`` flag while an ingest runs).

Scoring is FTS5's ``bm25()`` (Okapi BM25 with k1 = 1.2, b = 0.75; a term in more than half the chunks
gets an idf of 1e-6), not rank_bm25's k1 = 1.5 with a floor of a quarter of the mean idf: see
bench/RESULTS.md for the retrieval quality of both. :attr:`LexicalIndex.idf`, which the answer
pipeline weighs sentences by, keeps rank_bm25's formula exactly.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.ingest.sections import headings
from qa.models import Passage
from qa.text import content_words, terms

SCHEMA = "3"  # 3: chunks keep their page
# split on whitespace only (every Unicode category but separators and controls is a token character):
# the indexed text is already our terms, space-joined
TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* N* M* P* S* Co'"
EPSILON = 0.25  # rank_bm25: a negative idf is replaced by this fraction of the mean idf

_TABLES = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files(source TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, chunks INTEGER NOT NULL,
                   headings TEXT NOT NULL, words TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE chunks(id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL,
                    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, terms TEXT NOT NULL, page INTEGER);
CREATE INDEX chunks_source ON chunks(source);
CREATE VIRTUAL TABLE lex USING fts5(terms, content='chunks', content_rowid='id', tokenize="{TOKENIZE}");
CREATE TABLE vocab(term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE words(word TEXT PRIMARY KEY, files INTEGER NOT NULL) WITHOUT ROWID;
"""


def by_source(passages: Iterable[Passage]) -> dict[str, list[Passage]]:
    """``passages`` grouped by file, in their order."""
    out: dict[str, list[Passage]] = {}
    for p in passages:
        out.setdefault(p.source, []).append(p)
    return out


def row_id(chunk_id: str) -> int:
    """A stable 63-bit row id for a chunk id."""
    return int.from_bytes(hashlib.blake2b(chunk_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def surface_words(text: str) -> set[str]:
    """The content words spelling correction may correct towards (three letters or more, not numbers)."""
    return {w for w in content_words(text) if len(w) >= 3 and not w.isdigit()}


def match_expression(query_terms: Iterable[str]) -> str:
    """An FTS5 query matching any of ``query_terms`` (each quoted, so it is never read as syntax)."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in query_terms)


def okapi_idf(dfs: dict[str, int], n_docs: int) -> dict[str, float]:
    """rank_bm25's ``BM25Okapi`` idf: log((N - df + 0.5) / (df + 0.5)), negatives floored at EPSILON × mean."""
    if not dfs:
        return {}
    raw = {t: math.log(n_docs - df + 0.5) - math.log(df + 0.5) for t, df in dfs.items()}
    floor = EPSILON * sum(raw.values()) / len(raw)
    return {t: (floor if v < 0 else v) for t, v in raw.items()}


class LexicalIndex:
    """One SQLite FTS5 index file. Thread-safe; readers in other processes see each committed file.

    The file keeps SQLite's default rollback journal, not WAL: no ``-wal``/``-shm`` files outlive a
    write, so a damaged file can be emptied and rebuilt in place while other processes have it open.
    """

    def __init__(self, path: Path | None) -> None:
        """Open (or create) the index file at ``path``; ``None`` makes a private in-memory index."""
        self.path = path
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None, timeout=60)
        self._lock = threading.RLock()
        self._cache: dict[str, object] = {}
        self._cache_version = -1
        self._inode = path.stat().st_ino if path else 0

    @classmethod
    def of(cls, passages: list[Passage]) -> LexicalIndex:
        """An in-memory index of ``passages`` (for tests and one-off use)."""
        index = cls(None)
        index.rebuild([(s, "", ps) for s, ps in by_source(passages).items()], {"schema": SCHEMA})
        return index

    def is_current_file(self) -> bool:
        """False if the file was removed or replaced since it was opened here."""
        if self.path is None:
            return True
        try:
            return self.path.stat().st_ino == self._inode
        except FileNotFoundError:
            return False

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._con.close()

    # ---- schema and metadata --------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """The ``meta`` table (raises ``sqlite3.DatabaseError`` on a damaged or foreign file)."""
        with self._lock:
            return dict(self._con.execute("SELECT key, value FROM meta"))

    def set_meta(self, **values: object) -> None:
        """Update ``meta`` keys (its own transaction)."""
        with self.transaction():
            self._set_meta(values)

    def _set_meta(self, values: dict[str, object]) -> None:
        self._con.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                              [(k, str(v)) for k, v in values.items()])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error)."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")
            self._cache.clear()

    def rebuild(self, files: Iterable[tuple[str, str, list[Passage]]], meta: dict[str, object]) -> None:
        """Drop everything, create empty tables and write ``files`` and ``meta``, in one transaction."""
        with self.transaction() as con:
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'lex%'")\
                    .fetchall():
                con.execute(f'DROP TABLE IF EXISTS "{name}"')
            con.execute("DROP TABLE IF EXISTS lex")
            for statement in _TABLES.split(";"):
                if statement.strip():
                    con.execute(statement)
            for source, fingerprint, passages in files:
                self._insert(source, fingerprint, passages)
            self._set_meta(meta)

    # ---- writes ---------------------------------------------------------------------------
    def update(self, replace: Iterable[tuple[str, str, list[Passage]]] = (), delete: Iterable[str] = (),
               meta: dict[str, object] | None = None) -> None:
        """Replace each (source, fingerprint, passages), delete each source and set ``meta``, in one transaction."""
        with self.transaction():
            for source in delete:
                self._delete(source)
            for source, fingerprint, passages in replace:
                self._delete(source)
                self._insert(source, fingerprint, passages)
            if meta:
                self._set_meta(meta)

    def replace_file(self, source: str, fingerprint: str, passages: list[Passage]) -> None:
        """Replace the rows of ``source`` by ``passages`` (one transaction)."""
        self.update(replace=[(source, fingerprint, passages)])

    def delete_file(self, source: str) -> None:
        """Remove ``source`` (one transaction)."""
        self.update(delete=[source])

    def _insert(self, source: str, fingerprint: str, passages: list[Passage]) -> None:
        con = self._con
        rows = [(row_id(p.chunk_id), p.chunk_id, source, p.title, p.start, p.end, p.text, " ".join(terms(p.text)), p.page)
                for p in passages]
        con.executemany('INSERT INTO chunks(id, chunk_id, source, title, start, "end", text, terms, page) '
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT INTO lex(rowid, terms) VALUES (?, ?)", [(r[0], r[7]) for r in rows])
        dfs = Counter(t for r in rows for t in set(r[7].split()))
        con.executemany("INSERT INTO vocab(term, df) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
                        dfs.items())
        words = sorted(set().union(*(surface_words(p.text) for p in passages)))
        con.executemany("INSERT INTO words(word, files) VALUES (?, 1) ON CONFLICT(word) DO UPDATE SET files = files + 1",
                        [(w,) for w in words])
        found = sorted({(p.start + at, h) for p in passages for at, h in headings(p.text)})
        con.execute("INSERT INTO files(source, fingerprint, chunks, headings, words) VALUES (?, ?, ?, ?, ?)",
                    (source, fingerprint, len(rows), json.dumps(found), " ".join(words)))

    def _delete(self, source: str) -> None:
        """Remove the rows of ``source``."""
        con = self._con
        rows = con.execute("SELECT id, terms FROM chunks WHERE source = ?", (source,)).fetchall()
        if not rows and not con.execute("SELECT 1 FROM files WHERE source = ?", (source,)).fetchone():
            return
        con.executemany("INSERT INTO lex(lex, rowid, terms) VALUES ('delete', ?, ?)", rows)
        dfs = Counter(t for _, text in rows for t in set(text.split()))
        con.executemany("UPDATE vocab SET df = df - ? WHERE term = ?", [(n, t) for t, n in dfs.items()])
        con.executemany("DELETE FROM vocab WHERE term = ? AND df <= 0", [(t,) for t in dfs])
        got = con.execute("SELECT words FROM files WHERE source = ?", (source,)).fetchone()
        words = got[0].split() if got else []
        con.executemany("UPDATE words SET files = files - 1 WHERE word = ?", [(w,) for w in words])
        con.execute("DELETE FROM words WHERE word IN (SELECT value FROM json_each(?)) AND files <= 0", (json.dumps(words),))
        con.execute("DELETE FROM chunks WHERE source = ?", (source,))
        con.execute("DELETE FROM files WHERE source = ?", (source,))

    def drop_word_vectors(self) -> None:
        """Drop the table of word vectors an earlier version kept (for synonyms, which nothing reads any more)."""
        with self.transaction() as con:
            con.execute("DROP TABLE IF EXISTS word_vectors")

    # ---- reads ----------------------------------------------------------------------------
    def count(self) -> int:
        """Number of chunks."""
        with self._lock:
            return int(self._con.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def files(self) -> dict[str, tuple[str, int]]:
        """(fingerprint, chunk count) by source."""
        with self._lock:
            return {s: (f, int(n)) for s, f, n in self._con.execute("SELECT source, fingerprint, chunks FROM files")}

    def search(self, query_terms: list[str], n: int) -> list[Passage]:
        """Top ``n`` chunks by FTS5 ``bm25()`` for any of ``query_terms`` (score = -bm25, higher is better)."""
        if not query_terms or n <= 0:
            return []
        with self._lock:
            got = self._con.execute(
                'SELECT c.source, c.title, c.text, c.start, c."end", c.chunk_id, -hit.rank, c.page FROM '
                "(SELECT rowid, rank FROM lex WHERE lex MATCH ? ORDER BY rank LIMIT ?) AS hit "
                "JOIN chunks AS c ON c.id = hit.rowid ORDER BY hit.rank, hit.rowid",
                (match_expression(query_terms), n),
            ).fetchall()
        return [Passage(*row[:7], page=row[7]) for row in got]

    def _cached(self, key: str, load):  # type: ignore[no-untyped-def]
        """``load()`` once per committed state of the file (another process's commit invalidates it)."""
        with self._lock:
            version = self._con.execute("PRAGMA data_version").fetchone()[0]
            if version != self._cache_version:
                self._cache.clear()
                self._cache_version = version
            if key not in self._cache:
                self._cache[key] = load()
            return self._cache[key]

    @property
    def idf(self) -> dict[str, float]:
        """Term → rank_bm25 Okapi idf over the indexed chunks (loaded on first use, then cached)."""
        def load() -> dict[str, float]:
            dfs = dict(self._con.execute("SELECT term, df FROM vocab"))
            return okapi_idf(dfs, self.count())
        return self._cached("idf", load)  # type: ignore[no-any-return]

    @property
    def vocabulary(self) -> set[str]:
        """Every indexed term."""
        return self._cached("vocabulary", lambda: set(self.idf))  # type: ignore[no-any-return]

    @property
    def words(self) -> set[str]:
        """Surface content words of the corpus (for spelling correction)."""
        return self._cached("words", lambda: {w for (w,) in self._con.execute("SELECT word FROM words")})  # type: ignore[no-any-return]

    def headings(self, source: str) -> list[tuple[int, str]]:
        """(offset, heading) of the section headings of ``source``, in order."""
        def load() -> list[tuple[int, str]]:
            got = self._con.execute("SELECT headings FROM files WHERE source = ?", (source,)).fetchone()
            return [(int(at), str(h)) for at, h in json.loads(got[0])] if got else []
        return self._cached("headings:" + source, load)  # type: ignore[no-any-return]
