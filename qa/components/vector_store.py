"""The Chroma store: embedded ``PersistentClient`` by default, ``HttpClient`` when a URL is set.

Two collections: ``<name>`` holds the chunks (cosine space, our own embedding function — Chroma's
default is never used), ``<name>_files`` is the manifest (one record per indexed file: content hash
and chunk count), written only after all of a file's chunks are in, so an interrupted ingest is
detected and repaired on the next run.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from qa.components.embedding import MiniLMEmbeddingFunction
from qa.errors import QAError
from qa.models import Passage
from qa.settings import Settings

BATCH = 1024  # chunks per upsert: bounds one call's size (larger calls are no cheaper per chunk)
PAGE = 5000  # records per read: one unpaged get() of 100k chunks fails in Chroma ("too many SQL variables")


@dataclass(frozen=True)
class FileRecord:
    """Manifest entry of an indexed file."""

    source: str
    sha256: str  # fingerprint of the content and how it was chunked (qa.ingest.indexer.fingerprint)
    chunks: int
    title: str


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=True)


def _client(settings: Settings) -> Any:
    import chromadb

    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
        except Exception as exc:
            raise QAError(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc
    settings.store.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.store), settings=_chroma_settings())


class Store:
    """Chunks and manifest in Chroma."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = _client(settings)
        ef = MiniLMEmbeddingFunction()
        self.chunks = self.client.get_or_create_collection(
            settings.collection, embedding_function=ef, configuration={"hnsw": {"space": "cosine"}}
        )
        self.files = self.client.get_or_create_collection(
            settings.collection + "_files", embedding_function=ef
        )

    @property
    def location(self) -> str:
        """Where the store lives (path or URL)."""
        return self.settings.chroma_url or str(self.settings.store)

    # ---- manifest -------------------------------------------------------------------------
    def indexed_files(self) -> dict[str, FileRecord]:
        """Manifest records by source."""
        got = _get_all(self.files, ["metadatas"])
        return {
            i: FileRecord(i, str(m["sha256"]), int(m["chunks"]), str(m.get("title", "")))
            for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def chunk_counts(self) -> dict[str, int]:
        """Number of stored chunks per source (from the chunks themselves)."""
        counts: dict[str, int] = {}
        got = _get_all(self.chunks, ["metadatas"])
        for m in got["metadatas"] or []:
            counts[str(m["source"])] = counts.get(str(m["source"]), 0) + 1
        return counts

    def count(self) -> int:
        """Number of chunks."""
        return int(self.chunks.count())

    def generation(self) -> int:
        """A stamp that changes whenever an ingest changed the chunks (cheap to read: one record)."""
        meta = self.client.get_collection(self.files.name, embedding_function=MiniLMEmbeddingFunction()).metadata
        return int((meta or {}).get("generation", 0))

    def mark_changed(self) -> None:
        """Bump :meth:`generation`, so readers in any process rebuild what they derived from the chunks."""
        self.files.modify(metadata={"generation": time.time_ns()})

    # ---- writes ---------------------------------------------------------------------------
    def delete_sources(self, sources: list[str]) -> None:
        """Remove these files' manifest records first, then their chunks."""
        if sources:
            self.files.delete(ids=sources)
            self.chunks.delete(where={"source": {"$in": sources}})

    def add_files(self, files: list[tuple[FileRecord, list[Any]]], vectors: np.ndarray) -> None:
        """Add the chunks of ``files`` (``vectors``: one row per chunk, in order), then all their manifest
        records in one upsert (the commit point). Several files per call: each Chroma write has a fixed cost
        (on a 100k-chunk store ~130 ms per 10-chunk file written alone, ~35 ms per file in 256-chunk batches)."""
        self.add_chunks(files, vectors)
        self.add_records([record for record, _ in files])

    def add_chunks(self, files: list[tuple[FileRecord, list[Any]]], vectors: np.ndarray) -> None:
        """Upsert the chunks of ``files``, ``BATCH`` at a time."""
        pairs = [(record, c) for record, chunks in files for c in chunks]
        for i in range(0, len(pairs), BATCH):
            part = pairs[i : i + BATCH]
            self.chunks.upsert(
                ids=[c.id for _, c in part],
                documents=[c.text for _, c in part],
                embeddings=vectors[i : i + BATCH],
                metadatas=[
                    {"source": c.source, "title": c.title, "start": c.start, "end": c.end,
                     "index": c.index, "sha256": record.sha256,
                     **({"page": c.page} if getattr(c, "page", None) is not None else {})}
                    for record, c in part
                ],
            )

    def add_records(self, records: list[FileRecord]) -> None:
        """Upsert manifest records (each file's chunks must be in already)."""
        if records:
            now = time.time()
            self.files.upsert(
                ids=[r.source for r in records],
                embeddings=[[1.0] * 384] * len(records),
                metadatas=[{"sha256": r.sha256, "chunks": r.chunks, "title": r.title, "indexed_at": now}
                           for r in records],
            )

    # ---- reads ----------------------------------------------------------------------------
    def all_passages(self) -> list[Passage]:
        """Every chunk, in (source, start) order."""
        got = _get_all(self.chunks, ["documents", "metadatas"])
        out = [_passage(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(out, key=lambda p: (p.source, p.start))

    def file_passages(self, source: str) -> list[Passage]:
        """The chunks of one file, in order."""
        got = _get_all(self.chunks, ["documents", "metadatas"], where={"source": source})
        out = [_passage(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(out, key=lambda p: p.start)

    def dense_search(self, vector: np.ndarray, n: int) -> list[Passage]:
        """Nearest chunks by cosine similarity (score = 1 - distance)."""
        total = self.count()
        if total == 0:
            return []
        got = self.chunks.query(
            query_embeddings=[vector], n_results=min(n, total), include=["documents", "metadatas", "distances"]
        )
        return [
            _passage(i, d, m, 1.0 - float(dist))
            for i, d, m, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def last_indexed(self) -> float | None:
        """Unix time of the latest manifest write."""
        got = _get_all(self.files, ["metadatas"])
        times = [float(m.get("indexed_at", 0)) for m in got["metadatas"] or []]
        return max(times) if times else None


def _get_all(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> dict[str, list[Any]]:
    """Every record of ``collection`` (matching ``where``), read in pages of ``PAGE``."""
    out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
    offset = 0
    while True:
        got = collection.get(include=include, limit=PAGE, offset=offset, where=where)
        for k in out:
            out[k].extend(got[k] or [])
        if len(got["ids"]) < PAGE:
            return out
        offset += PAGE


def _passage(chunk_id: str, doc: str, meta: dict[str, Any], score: float = 0.0) -> Passage:
    return Passage(
        source=str(meta["source"]), title=str(meta.get("title", "")), text=doc,
        start=int(meta["start"]), end=int(meta["end"]), chunk_id=chunk_id, score=score,
        page=int(meta["page"]) if meta.get("page") is not None else None,
    )


def open_store(settings: Settings) -> Store:
    """Open the store; a corrupt local store is moved aside and a fresh one created."""
    try:
        store = Store(settings)
        store.count()
        return store
    except QAError:
        raise
    except Exception as exc:  # chromadb raises many types for a damaged sqlite/hnsw store
        if settings.chroma_url:
            raise QAError(f"Chroma server at {settings.chroma_url} failed: {exc}") from exc
        if not _looks_corrupt(settings.store, exc):
            raise
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # drop the broken client chromadb cached for this path
        aside = settings.store.with_name(f"{settings.store.name}.corrupt-{int(time.time())}")
        shutil.move(str(settings.store), str(aside))
        import logging

        logging.getLogger("qa").warning("store at %s was unreadable (%s); moved to %s and rebuilt",
                                        settings.store, exc, aside)
        return Store(settings)


def _looks_corrupt(path: Path, exc: Exception) -> bool:
    if isinstance(exc, sqlite3.DatabaseError):
        return True
    text = str(exc).lower()
    return path.exists() and any(w in text for w in ("malformed", "not a database", "corrupt", "no such table",
                                                      "database disk image", "hnsw", "error loading"))
