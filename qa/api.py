"""The public Python API: ``ask``, ``ask_stream`` and ``ingest``, over one cached pipeline per config."""

from __future__ import annotations

import threading
from typing import Any

from qa.answer.pipeline import AnswerStream, Pipeline
from qa.ingest.indexer import IngestReport
from qa.models import Answer
from qa.settings import Settings, load_settings

_PIPELINES: dict[Settings, Pipeline] = {}
_LOCK = threading.Lock()


def get_pipeline(settings: Settings | None = None, **overrides: Any) -> Pipeline:
    """The process-wide pipeline for these settings (created on first use)."""
    s = settings.replace(**overrides) if settings else load_settings(**overrides)
    with _LOCK:
        if s not in _PIPELINES:
            _PIPELINES[s] = Pipeline(s)
        return _PIPELINES[s]


def ask(question: str, history: list[tuple[str, str]] | None = None, **overrides: Any) -> Answer:
    """Answer ``question`` from the indexed documents, with verified citations.

    ``history`` is earlier (question, answer) turns; ``overrides`` are settings fields
    (e.g. ``llm_preset="smollm2"``, ``k=6``). Raises ``ValueError`` (``QAError``) on bad input.
    """
    return get_pipeline(**overrides).ask(question, history)


def ask_stream(question: str, history: list[tuple[str, str]] | None = None, **overrides: Any) -> AnswerStream:
    """Like :func:`ask`, but iterate the result for text as it is generated; ``.answer`` at the end."""
    return get_pipeline(**overrides).stream(question, history)


def warm_up(**overrides: Any) -> None:
    """Open the index and load the models now, so the first :func:`ask` is as fast as the next."""
    get_pipeline(**overrides).warm_up()


def ingest(corpus: str | None = None, progress: bool = False, **overrides: Any) -> IngestReport:
    """Index ``corpus`` (default: the configured corpus) incrementally."""
    return get_pipeline(**overrides).ingest(corpus, progress)
