"""Hybrid retrieval: BM25 and dense (Chroma) rankings fused by reciprocal rank, diverse across files."""

from __future__ import annotations

import bisect
import re
import threading
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from qa.components.embedding import embed, english_words
from qa.components.vector_store import Store
from qa.models import Passage
from qa.retrieval.lexical_index import LexicalIndex
from qa.retrieval.lexical_sync import catch_up, open_index
from qa.text import STOPWORDS, edit_distance, stem, terms

RRF_K = 60
HEADS = 2  # the first chunks of each ranking that fusion must keep
SAME_FILE_DECAY = 0.8  # each further chunk from an already chosen file counts this much less
QUESTION_WORDS = frozenset("which where what when whose whom there their".split())


class BM25Index:
    """The lexical side of retrieval over a persisted :class:`LexicalIndex` (see :mod:`qa.retrieval.lexical_sync`).

    Nothing is read at start-up: ``idf``, ``vocabulary``, ``words`` and each file's headings are loaded
    from the index file on first use and cached until the file changes.
    """

    def __init__(self, index: LexicalIndex | list[Passage]) -> None:
        """Over a persisted index, or over an in-memory one of the given passages."""
        self.index = index if isinstance(index, LexicalIndex) else LexicalIndex.of(index)

    @property
    def idf(self) -> dict[str, float]:
        """Term → Okapi idf (the ``rank_bm25.BM25Okapi`` formula) over the indexed chunks."""
        return self.index.idf

    @property
    def vocabulary(self) -> set[str]:
        """Every indexed term (stemmed content word)."""
        return self.index.vocabulary

    @property
    def words(self) -> set[str]:
        """Surface content words of the corpus, for spelling correction."""
        return self.index.words

    def section(self, source: str, offset: int) -> str:
        """The heading of the section of ``source`` that ``offset`` lies in ("" before the first)."""
        hs = self.index.headings(source)
        i = bisect.bisect_right(hs, (offset, "\uffff")) - 1
        return hs[i][1] if i >= 0 else ""

    def correct_spelling(self, text: str) -> str:
        """Replace words the corpus never uses by a corpus word one or two edits away ("retaliatry").

        Misspelt question words ("wich", "wher") are corrected too, so they are not taken for
        content words the corpus never mentions. Real English words are left alone: "price" is not
        "prime", nor "journalist" "journalism", however close the corpus word.
        """
        english = english_words()

        def fix(m: re.Match[str]) -> str:
            word = m.group(0)
            low = word.lower()
            if len(low) < 4 or low in self.words or low in STOPWORDS or stem(low) in self.vocabulary:
                return word
            if low in english or low.removesuffix("s") in english:
                return word
            limit = 1 if len(low) < 10 else 2
            pool = QUESTION_WORDS | (self.words if len(low) >= 5 else set())  # "wich" → "which"
            best = min(
                (w for w in pool if w[0] == low[0] and abs(len(w) - len(low)) <= limit),
                key=lambda w: (edit_distance(low, w, limit), w),
                default=None,
            )
            if best is None or edit_distance(low, best, limit) > limit:
                return word
            return best.capitalize() if word[0].isupper() else best

        return re.sub(r"[A-Za-z]+", fix, text)

    def search(self, query: str, n: int) -> list[Passage]:
        """Top ``n`` chunks by BM25 (FTS5's ``bm25()``; see :mod:`qa.retrieval.lexical_index`)."""
        return self.index.search(terms(query), n)


def _with_score(p: Passage, score: float) -> Passage:
    return Passage(p.source, p.title, p.text, p.start, p.end, p.chunk_id, score, page=p.page)


def fuse(rankings: list[list[Passage]], k: int, heads: int = HEADS) -> list[Passage]:
    """Reciprocal-rank fusion of several rankings, then a per-file decay for diversity.

    The first ``heads`` of each ranking always get a place: fusion favours chunks both rankings
    find middling over one that a single ranking puts first (the only chunk naming "the project
    engineer" is BM25's first and MiniLM's 19th).
    """
    fused: dict[str, float] = {}
    by_id: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, p in enumerate(ranking):
            fused[p.chunk_id] = fused.get(p.chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            by_id.setdefault(p.chunk_id, p)
    pool = sorted(fused, key=lambda i: -fused[i])
    kept = list(dict.fromkeys(p.chunk_id for ranking in rankings for p in ranking[:heads]))[:k]
    chosen: list[Passage] = []
    per_file: dict[str, int] = {}
    while pool and len(chosen) < k:
        free = k - len(chosen) - sum(1 for i in kept if i in pool)  # places not owed to a ranking's head
        candidates = pool if free > 0 else [i for i in pool if i in kept]
        best = max(candidates, key=lambda i: fused[i] * SAME_FILE_DECAY ** per_file.get(by_id[i].source, 0))
        pool.remove(best)
        p = by_id[best]
        per_file[p.source] = per_file.get(p.source, 0) + 1
        chosen.append(_with_score(p, fused[best]))
    return chosen


class HybridRetriever(BaseRetriever):
    """LangChain retriever over the qa store. ``k`` is a field and an ``invoke`` keyword."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    k: int = 8
    candidates: int = 30
    _index: BM25Index | None = PrivateAttr(default=None)
    _index_key: tuple[int, int] = PrivateAttr(default=(-1, -1))
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def bm25(self) -> BM25Index:
        """The lexical index, opened on first use and brought in line with the store when the store changed."""
        store: Store = self.store
        key = (store.count(), store.generation())
        with self._lock:
            if self._index is None or not self._index.index.is_current_file():
                self._index = BM25Index(open_index(store))
                self._index_key = (-1, -1)
            if key != self._index_key:
                index, in_step = catch_up(self._index.index, store)
                if index is not self._index.index:
                    self._index = BM25Index(index)
                if in_step:
                    self._index_key = key
            return self._index

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """Top ``k`` passages for ``query``; scores are fused RRF scores."""
        k = k or self.k
        if not query.strip():
            return []
        n = max(self.candidates, 3 * k)
        dense = self.store.dense_search(embed([query])[0], n)
        lexical = self.bm25().search(query, n)
        return fuse([dense, lexical], k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = kwargs.get("k", self.k)
        return [
            Document(
                page_content=p.text,
                id=p.chunk_id,
                metadata={"source": p.source, "title": p.title, "start": p.start, "end": p.end,
                          "chunk_id": p.chunk_id, "score": p.score},
            )
            for p in self.search(query, k)
        ]
