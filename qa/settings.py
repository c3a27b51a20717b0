"""One settings object, read from environment variables and an optional ``qa.toml``.

Precedence (highest first): explicit overrides, ``QA_*`` environment variables,
``qa.toml`` in the working directory (or ``QA_CONFIG``), built-in defaults.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QAError

LLM_BACKENDS = ("llamacpp", "openai", "ollama")
LLM_PRESETS = ("qwen1.5b", "smollm2")
READERS = ("model", "lexical")

# Env var name -> settings field. Names are part of the public contract.
ENV_VARS = {
    "QA_CORPUS": "corpus",
    "QA_STORE": "store",
    "QA_LLM": "llm",
    "QA_LLM_PRESET": "llm_preset",
    "QA_OPENAI_BASE_URL": "openai_base_url",
    "QA_OPENAI_MODEL": "openai_model",
    "QA_OPENAI_API_KEY": "openai_api_key",
    "QA_OLLAMA_BASE_URL": "ollama_base_url",
    "QA_OLLAMA_MODEL": "ollama_model",
    "QA_CHROMA_URL": "chroma_url",
    "QA_MODEL_CACHE": "model_cache",
    "QA_K": "k",
    "QA_EVIDENCE_SENTENCES": "evidence_sentences",
    "QA_EVIDENCE_TOKENS": "evidence_tokens",
    "QA_FIRST_EVIDENCE_TOKENS": "first_evidence_tokens",
    "QA_LLM_TIMEOUT": "llm_timeout",
    "QA_LLM_RETRIES": "llm_retries",
    "QA_LLM_THREADS": "llm_threads",
    "QA_READER": "reader",
    "QA_REFUSE_AT": "refuse_at",
    "QA_JUDGE_AT": "judge_at",
    "QA_IMPORT_ROOTS": "import_roots",
    "QA_UPLOAD_MAX_MB": "upload_max_mb",
    "QA_UI_USER_ANSWERS": "ui_user_answers",
    "QA_UI_QUEUE_SIZE": "ui_queue_size",
    "QA_UI_CONCURRENT_ANSWERS": "ui_concurrent_answers",
}


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline. Immutable; use :meth:`replace` for overrides."""

    corpus: Path = Path("seeds")
    store: Path = Path(".qa")
    collection: str = "qa_chunks"
    llm: str = "llamacpp"
    llm_preset: str = "qwen1.5b"
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = "local"
    openai_api_key: str = "not-needed"
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "qwen2.5:1.5b"
    chroma_url: str = ""
    model_cache: Path = field(default_factory=lambda: Path.home() / ".cache" / "qa" / "models")
    # chunking: tiktoken tokens per chunk and overlap
    chunk_tokens: int = 160
    chunk_overlap: int = 32
    # retrieval: chunks fused from BM25 + dense, then sentences offered to the LLM
    k: int = 8
    evidence_sentences: int = 14  # numbered sentences the reader sees, at most
    evidence_tokens: int = 300  # their length in tokens: what the reader may read (see docs/RESULTS.md)
    # the best of them within this many tokens are read first, the rest only when those do not answer; their
    # length sets the time to the first word (0: all at once)
    first_evidence_tokens: int = 100
    max_question_chars: int = 2000
    # generation
    max_answer_tokens: int = 80  # what the reader may write: sentence numbers and a short answer
    llm_timeout: float = 120.0  # seconds per request to a remote backend
    llm_retries: int = 2  # retries of a failed request (connection error, timeout, 429, 5xx)
    llm_threads: int = 0  # 0 = all cores
    n_ctx: int = 2048
    n_batch: int = 512
    # who decides which evidence sentences answer: "model" (the configured LLM) or "lexical" (no LLM)
    reader: str = "model"
    # the reader's probability that no sentence answers, at or above which it refuses; -1 = the policy's default
    refuse_at: float = -1.0
    # the model's P(Yes) that a quote answers the question, below which the claim is dropped; -1 = the policy's
    judge_at: float = -1.0
    # UI (qa/ui): folders the UI may copy documents from, os.pathsep-separated; empty = no folder import
    import_roots: str = ""
    # UI: largest accepted upload in MiB (the loader itself skips files over 20 MiB)
    upload_max_mb: float = 20.0
    # UI: answers one user (login name + client address) may have in flight (waiting or running)
    ui_user_answers: int = 1
    # UI: answers in flight (waiting or running) across all users; more get "Busy: N questions ahead"
    ui_queue_size: int = 8
    # UI: answers generated at the same time (a local model runs one at a time anyway)
    ui_concurrent_answers: int = 1

    def replace(self, **overrides: Any) -> Settings:
        """Return a copy with ``overrides`` applied (unknown names are an error)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise QAError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return _validated(dataclasses.replace(self, **_coerce(overrides)))


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = types[name]
        try:
            if kind == "Path":
                out[name] = Path(value).expanduser()
            elif kind == "int":
                out[name] = int(value)
            elif kind == "float":
                out[name] = float(value)
            else:
                out[name] = str(value)
        except (TypeError, ValueError) as exc:
            raise QAError(f"setting {name}={value!r} is not a valid {kind}") from exc
    return out


def _validated(s: Settings) -> Settings:
    if s.llm not in LLM_BACKENDS:
        raise QAError(f"QA_LLM must be one of {', '.join(LLM_BACKENDS)}, not {s.llm!r}")
    if s.llm_preset not in LLM_PRESETS:
        raise QAError(f"QA_LLM_PRESET must be one of {', '.join(LLM_PRESETS)}, not {s.llm_preset!r}")
    if s.reader not in READERS:
        raise QAError(f"QA_READER must be one of {', '.join(READERS)}, not {s.reader!r}")
    if s.k < 1 or s.evidence_sentences < 1:
        raise QAError("k and evidence_sentences must be at least 1")
    if s.first_evidence_tokens < 0:
        raise QAError("QA_FIRST_EVIDENCE_TOKENS must be 0 (read all at once) or more")
    if min(s.ui_user_answers, s.ui_queue_size, s.ui_concurrent_answers) < 1 or s.upload_max_mb <= 0:
        raise QAError("QA_UI_USER_ANSWERS, QA_UI_QUEUE_SIZE, QA_UI_CONCURRENT_ANSWERS and QA_UPLOAD_MAX_MB must be positive")
    return s


def load_settings(**overrides: Any) -> Settings:
    """Build settings from ``qa.toml`` (optional), ``QA_*`` env vars, then ``overrides``."""
    values: dict[str, Any] = {}
    toml_path = Path(os.environ.get("QA_CONFIG", "qa.toml"))
    if toml_path.is_file():
        try:
            values.update(tomllib.loads(toml_path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise QAError(f"cannot read config {toml_path}: {exc}") from exc
    for env, name in ENV_VARS.items():
        if os.environ.get(env):
            values[name] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings().replace(**values)
