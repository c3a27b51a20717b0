"""Incremental ingest: unchanged files are skipped, changed files replaced, removed files purged.

A file counts as indexed only when its manifest record matches its fingerprint (its content hash, the
chunk settings and the chunking rules' version) *and* the number
of chunks actually stored, so a run killed at any point is repaired by the next run. Files to write are
gathered into batches of about ``CHUNK_BUDGET`` chunks; per batch: one ``embed()`` call, the old versions
of its changed files deleted, all its chunks upserted, *then* its files' manifest records in one upsert
(the commit point). The persisted lexical index is written right after Chroma's write of each batch (see
:mod:`qa.retrieval.lexical_sync` for how a run killed in between is repaired).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.components.embedding import MAX_WORD_PIECES, count_word_pieces, embed
from qa.components.vector_store import FileRecord, Store
from qa.ingest.chunker import CHUNKING, Chunk, chunk_document
from qa.ingest.loader import Skipped, discover, load
from qa.models import Passage
from qa.retrieval.lexical_sync import IngestWriter, ingest_session
from qa.settings import Settings

# chunks per batch of files. Measured on a copy of a 100k-chunk store: Chroma's writes take ~130 ms per
# 10-chunk file one file at a time, ~35 ms per file in batches of 256 chunks (64: slower; 512 and 1024: no
# faster); one embed() call of 256 chunks takes 0.7-0.85x the time of one call per file. A killed run
# loses at most one batch's work.
CHUNK_BUDGET = 256


@dataclass
class IngestReport:
    """What an ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_written: int = 0
    total_chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for humans."""
        return (
            f"indexed {len(self.added)} new, {len(self.updated)} changed, {len(self.unchanged)} unchanged, "
            f"removed {len(self.removed)}, skipped {len(self.skipped)} file(s); "
            f"{self.chunks_written} chunks written, {self.total_chunks} in store ({self.seconds:.1f}s)"
        )


def fingerprint(content_sha256: str, settings: Settings) -> str:
    """What a file's stored chunks were made from: its content, the chunk size and overlap, and the
    chunking rules (``CHUNKING``). A file whose fingerprint changed is chunked again."""
    made = f"{content_sha256}|{settings.chunk_tokens}|{settings.chunk_overlap}|{CHUNKING}"
    return hashlib.sha256(made.encode("utf-8")).hexdigest()


def fits_embedder(text: str) -> bool:
    """True if ``text`` fits the embedder's window without truncation."""
    return count_word_pieces(text) <= MAX_WORD_PIECES


@contextlib.contextmanager
def ingest_lock(settings: Settings) -> Iterator[None]:
    """One ingest at a time per local store (a no-op lock for a Chroma server)."""
    if settings.chroma_url:
        yield
        return
    settings.store.mkdir(parents=True, exist_ok=True)
    with open(settings.store / "ingest.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ingest(store: Store, corpus: Path, settings: Settings, progress: bool = False) -> IngestReport:
    """Bring the store in line with the files under ``corpus``."""
    t0 = time.perf_counter()
    report = IngestReport()
    paths = discover(corpus)
    with ingest_lock(settings), ingest_session(store) as lexical, _progress(len(paths), progress) as bar:
        manifest = store.indexed_files()
        # chunks are written before their manifest record, so when the totals agree nothing is half-written
        # or orphaned and the manifest's counts can be trusted; otherwise count the stored chunks per file
        if sum(r.chunks for r in manifest.values()) == store.count():
            stored_counts = {source: r.chunks for source, r in manifest.items()}
        else:
            stored_counts = store.chunk_counts()
        known = set(manifest) | set(stored_counts)  # files with chunks or a record: an old version to delete
        present: set[str] = set()
        batch: list[tuple[FileRecord, list[Chunk]]] = []
        for path in paths:
            source = path.relative_to(corpus).as_posix()
            present.add(source)
            try:
                doc = load(path, corpus)
            except ValueError as exc:
                report.skipped.append(Skipped(source, str(exc)))
                bar.update()
                continue
            record = manifest.get(source)
            made = fingerprint(doc.sha256, settings)
            if record and record.sha256 == made and stored_counts.get(source) == record.chunks:
                report.unchanged.append(source)
                bar.update()
                continue
            chunks = chunk_document(
                doc.source, doc.title, doc.text, settings.chunk_tokens, settings.chunk_overlap, fits_embedder, doc.paged
            )
            batch.append((FileRecord(source, made, len(chunks), doc.title), chunks))
            if sum(len(c) for _, c in batch) >= CHUNK_BUDGET:
                _write(store, lexical, batch, known, report)
                bar.update(len(batch))
                batch = []
        _write(store, lexical, batch, known, report)
        bar.update(len(batch))
        gone = sorted(known - present)
        for i in range(0, len(gone), CHUNK_BUDGET):  # CHUNK_BUDGET files per delete (one "$in" list)
            store.delete_sources(gone[i : i + CHUNK_BUDGET])
            for source in gone[i : i + CHUNK_BUDGET]:
                lexical.delete_file(source)
        report.removed = gone
        if report.chunks_written or report.removed:
            store.mark_changed()
        report.total_chunks = store.count()
    report.seconds = time.perf_counter() - t0
    return report


def _write(store: Store, lexical: IngestWriter, batch: list[tuple[FileRecord, list[Chunk]]], known: set[str],
           report: IngestReport) -> None:
    """Write a batch of files: embed all their chunks at once, delete the old versions of those in ``known``,
    upsert all the chunks, then the manifest records (the commit point), then the lexical rows."""
    if not batch:
        return
    chunks = [c for _, file_chunks in batch for c in file_chunks]
    vectors = embed([c.text for c in chunks])
    store.delete_sources([record.source for record, _ in batch if record.source in known])
    store.add_files(batch, vectors)
    for record, file_chunks in batch:
        lexical.replace_file(record.source, record.sha256, [
            Passage(c.source, c.title, c.text, c.start, c.end, c.id, page=c.page) for c in file_chunks])
        (report.updated if record.source in known else report.added).append(record.source)
    report.chunks_written += len(chunks)


def _progress(total: int, enabled: bool):  # type: ignore[no-untyped-def]
    """A progress bar over ``total`` files (a silent one unless ``enabled``); a file counts once written."""
    from tqdm import tqdm

    return tqdm(total=total, desc="ingest", unit="file", file=sys.stderr, leave=False, disable=not enabled)
