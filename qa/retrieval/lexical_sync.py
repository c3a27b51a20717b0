"""Keeping the persisted lexical index (:mod:`qa.retrieval.lexical_index`) in line with the Chroma store.

Where it lives: ``<QA_STORE>/lexical/<collection>.sqlite3`` for a local store (beside Chroma's own
files, moved aside with them if the store is found corrupt); for a Chroma server (``QA_CHROMA_URL``)
``~/.cache/qa/lexical/server-<hash of URL and collection>.sqlite3`` (beside ``QA_MODEL_CACHE``) on this
machine, a local mirror of the server's collection.

How it stays consistent:

- ``meta`` records the schema, ``qa.text.TOKENIZER_VERSION``, the chunking rules' version
  (``qa.ingest.chunker.CHUNKING``) and the Chroma collection's id. A missing or unreadable file, or
  any of these that differs, is rebuilt from the store (logged once; :data:`REBUILDS` counts them).
- Ingest writes each file's rows after its Chroma write (committed in batches of files), under a lock
  file beside the index, with ``dirty`` set for the whole run; a clean end records the store's chunk
  count and generation.
- A reader compares the store's chunk count and generation with those recorded. If they differ (an
  ingest died between a Chroma write and the lexical write, or another machine wrote to the Chroma
  server), or ``dirty`` is set while no ingest holds the lock, the index is reconciled: each file
  whose (fingerprint, chunk count) differs from the store's manifest is re-read from Chroma and
  rewritten; files the store no longer has are dropped. While an ingest is running, readers use the
  index as it stands, as they see Chroma as it stands.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from qa.components.vector_store import Store
from qa.ingest.chunker import CHUNKING
from qa.models import Passage
from qa.retrieval.lexical_index import SCHEMA, LexicalIndex, by_source
from qa.settings import Settings
from qa.text import TOKENIZER_VERSION

log = logging.getLogger("qa")
REBUILDS = {"count": 0}  # full rebuilds from the store in this process (tests assert on it)
PER_FILE_LIMIT = 200  # more changed files than this (and a quarter of all) are re-read in one pass


def index_path(settings: Settings) -> Path:
    """Where the lexical index of ``settings``' store and collection lives."""
    if settings.chroma_url:
        key = hashlib.sha256(f"{settings.chroma_url}|{settings.collection}".encode()).hexdigest()[:16]
        return settings.model_cache.parent / "lexical" / f"server-{key}.sqlite3"  # the local store path stays unused
    return settings.store / "lexical" / f"{settings.collection}.sqlite3"


def identity(store: Store) -> dict[str, str]:
    """What an index must have been built with to be used for ``store``."""
    return {"schema": SCHEMA, "tokenizer": TOKENIZER_VERSION, "chunking": CHUNKING, "collection": str(store.chunks.id)}


@contextlib.contextmanager
def locked(path: Path, wait: bool = True) -> Iterator[bool]:
    """Hold the index's lock file; with ``wait=False`` yield False at once if another holder has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _open_checked(path: Path, store: Store) -> tuple[LexicalIndex | None, str]:
    """The index at ``path`` if it is usable for ``store``, else (None, why not)."""
    if not path.exists():
        return None, "is missing"
    index = None
    try:
        index = LexicalIndex(path)
        meta = index.meta()
        index.count()
    except sqlite3.DatabaseError as exc:
        if index:
            index.close()
        return None, f"is unreadable ({exc})"
    differs = [k for k, v in identity(store).items() if meta.get(k) != v]
    if differs:
        index.close()
        return None, "was built with another " + ", ".join(differs)
    return index, ""


def open_index(store: Store) -> LexicalIndex:
    """The store's lexical index, rebuilt from the store first if it is missing, damaged or outdated."""
    path = index_path(store.settings)
    index, why = _open_checked(path, store)
    if index:
        return index
    with locked(path):
        index, why = _open_checked(path, store)  # another process may have rebuilt it meanwhile
        if index:
            return index
        if not path.exists() and store.count() == 0:
            index = LexicalIndex(path)  # a new store: nothing to rebuild
            index.rebuild([], {**identity(store), "location": store.location, "count": 0,
                               "generation": store.generation(), "dirty": 0})
            return index
        return rebuild(path, store, why)


def rebuild(path: Path, store: Store, why: str, index: LexicalIndex | None = None) -> LexicalIndex:
    """Build the index at ``path`` (through ``index`` if open) from every chunk of ``store``.

    One transaction; the caller holds the lock.
    """
    log.warning("lexical index %s %s; rebuilding it from the store", path, why)
    REBUILDS["count"] += 1
    count, generation = store.count(), store.generation()
    meta = {**identity(store), "location": store.location, "count": count, "generation": generation, "dirty": 0}
    files = _grouped(store.all_passages(), store)
    try:
        index = index or LexicalIndex(path)
        index.rebuild(files, meta)
    except sqlite3.DatabaseError:  # not a database at all: empty it in place (never unlink an open database)
        if index:
            index.close()
        os.truncate(path, 0)
        Path(f"{path}-journal").unlink(missing_ok=True)
        index = LexicalIndex(path)
        index.rebuild(files, meta)
    return index


def _grouped(passages: list[Passage], store: Store) -> list[tuple[str, str, list[Passage]]]:
    """(source, manifest fingerprint or "", its passages) for every source in ``passages``."""
    manifest = store.indexed_files()
    return [(s, manifest[s].sha256 if s in manifest else "", ps) for s, ps in by_source(passages).items()]


def in_step(index: LexicalIndex, count: int, generation: int) -> bool:
    """True if the index was last brought in line with a store of this count and generation, cleanly."""
    meta = index.meta()
    return meta.get("dirty") == "0" and meta.get("count") == str(count) and meta.get("generation") == str(generation)


def catch_up(index: LexicalIndex, store: Store) -> tuple[LexicalIndex, bool]:
    """Reconcile ``index`` with ``store`` if it is out of step (see the module doc).

    Returns the index and whether it is now in step; False while an ingest holds the lock (the ingest
    leaves it in step when it ends; if it dies, the next call repairs it).
    """
    if in_step(index, store.count(), store.generation()):
        return index, True
    with locked(index.path, wait=False) as got:
        if not got:
            return index, False
        return reconcile(index, store), True


def reconcile(index: LexicalIndex, store: Store) -> LexicalIndex:
    """Rewrite the files whose rows differ from the store's; drop those it no longer has (caller holds the lock)."""
    count, generation = store.count(), store.generation()  # read first: a later write leaves us out of step again
    manifest = store.indexed_files()
    counts = {s: r.chunks for s, r in manifest.items()}
    if sum(counts.values()) != count:  # chunks without a manifest record, or a record without its chunks
        counts = store.chunk_counts()
    want = {s: (manifest[s].sha256 if s in manifest else "", n) for s, n in counts.items()}
    have = index.files()
    gone = sorted(set(have) - set(want))
    changed = sorted(s for s, w in want.items() if have.get(s) != w)
    meta = {"count": count, "generation": generation, "dirty": 0}
    if gone or changed:
        log.warning("lexical index %s was out of step with the store (%d file(s) to rewrite, %d to drop); repairing",
                    index.path, len(changed), len(gone))
    if len(changed) > PER_FILE_LIMIT and len(changed) > len(want) / 4:
        return rebuild(index.path, store, f"differs from the store in {len(changed)} files", index)
    index.update(replace=[(s, want[s][0], store.file_passages(s)) for s in changed], delete=gone, meta=meta)
    held = index.count()
    if held != count:
        return rebuild(index.path, store, f"holds {held} chunks where the store holds {count}", index)
    return index


class IngestWriter:
    """Ingest's writes to the index, committed every ``BATCH_FILES`` files (one commit per file would add
    ~5 ms of journal writes and syncs per file) and at the end of the run. Writes lost to a killed run
    are repaired like any other: the run left ``dirty`` set."""

    BATCH_FILES = 64

    def __init__(self, index: LexicalIndex) -> None:
        self.index = index
        self._replace: dict[str, tuple[str, str, list[Passage]]] = {}
        self._delete: list[str] = []

    def replace_file(self, source: str, fingerprint: str, passages: list[Passage]) -> None:
        """Replace the rows of ``source`` (after Chroma's write of it)."""
        if source in self._delete:
            self.flush()
        self._replace[source] = (source, fingerprint, passages)
        self._maybe_flush()

    def delete_file(self, source: str) -> None:
        """Remove ``source`` (after Chroma's delete of it)."""
        if source in self._replace:
            self.flush()
        self._delete.append(source)
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if len(self._replace) + len(self._delete) >= self.BATCH_FILES:
            self.flush()

    def flush(self, **meta: object) -> None:
        """Commit the queued writes (and ``meta``) in one transaction."""
        self.index.update(replace=list(self._replace.values()), delete=self._delete, meta=meta or None)
        self._replace, self._delete = {}, []


@contextlib.contextmanager
def ingest_session(store: Store) -> Iterator[IngestWriter]:
    """The index for one ingest run: locked, in step at the start, ``dirty`` until the run ends cleanly."""
    index = open_index(store)
    try:
        with locked(index.path):
            if not in_step(index, store.count(), store.generation()):
                index = reconcile(index, store)
            index.set_meta(dirty=1)
            writer = IngestWriter(index)
            yield writer
            writer.flush()
            index.drop_word_vectors()
            index.set_meta(count=store.count(), generation=store.generation(), dirty=0)
    finally:
        index.close()
