"""Incremental ingest: unchanged files are skipped, changed files replaced, removed files purged.

A file counts as indexed only when its manifest record matches its fingerprint (its content hash, the
chunk settings and the chunking rules' version) *and* the number
of chunks actually stored, so a run killed at any point is repaired by the next run. The persisted lexical
index is written file by file right after Chroma (see :mod:`qa.retrieval.lexical_sync` for how a run killed
in between is repaired).
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
from qa.ingest.chunker import CHUNKING, chunk_document
from qa.ingest.loader import Skipped, discover, load
from qa.models import Passage
from qa.retrieval.lexical_sync import ingest_session
from qa.settings import Settings


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
    with ingest_lock(settings), ingest_session(store) as lexical:
        manifest = store.indexed_files()
        # chunks are written before their manifest record, so when the totals agree nothing is half-written
        # or orphaned and the manifest's counts can be trusted; otherwise count the stored chunks per file
        if sum(r.chunks for r in manifest.values()) == store.count():
            stored_counts = {source: r.chunks for source, r in manifest.items()}
        else:
            stored_counts = store.chunk_counts()
        present: set[str] = set()
        bar = _progress(paths, progress)
        for path in bar:
            source = path.relative_to(corpus).as_posix()
            present.add(source)
            try:
                doc = load(path, corpus)
            except ValueError as exc:
                report.skipped.append(Skipped(source, str(exc)))
                continue
            record = manifest.get(source)
            made = fingerprint(doc.sha256, settings)
            if record and record.sha256 == made and stored_counts.get(source) == record.chunks:
                report.unchanged.append(source)
                continue
            chunks = chunk_document(
                doc.source, doc.title, doc.text, settings.chunk_tokens, settings.chunk_overlap, fits_embedder, doc.paged
            )
            vectors = embed([c.text for c in chunks])
            store.delete_source(source)
            store.add_file(FileRecord(source, made, len(chunks), doc.title), chunks, vectors)
            lexical.replace_file(source, made, [Passage(c.source, c.title, c.text, c.start, c.end, c.id, page=c.page)
                                                for c in chunks])
            report.chunks_written += len(chunks)
            (report.updated if source in manifest or source in stored_counts else report.added).append(source)
        for source in sorted((set(manifest) | set(stored_counts)) - present):
            store.delete_source(source)
            lexical.delete_file(source)
            report.removed.append(source)
        if report.chunks_written or report.removed:
            store.mark_changed()
        report.total_chunks = store.count()
    report.seconds = time.perf_counter() - t0
    return report


def _progress(paths: list[Path], enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return paths
    from tqdm import tqdm

    return tqdm(paths, desc="ingest", unit="file", file=sys.stderr, leave=False)
