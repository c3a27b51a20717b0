"""One factory for the chat model, chosen by settings: llama.cpp in-process, OpenAI-compatible, Ollama."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel

from qa.errors import BackendError, QAError
from qa.settings import Settings

_CACHE: dict[tuple[Any, ...], BaseChatModel] = {}
_LOCK = threading.Lock()


def _key(s: Settings) -> tuple[Any, ...]:
    if s.llm == "llamacpp":
        return (s.llm, s.llm_preset, str(s.model_cache), s.n_ctx, s.n_batch, s.llm_threads, s.max_answer_tokens)
    if s.llm == "openai":
        return (s.llm, s.openai_base_url, s.openai_model, s.llm_timeout, s.llm_retries, s.max_answer_tokens)
    return (s.llm, s.ollama_base_url, s.ollama_model, s.llm_timeout, s.llm_retries, s.max_answer_tokens)


def backend_label(s: Settings) -> str:
    """Human-readable name of the configured backend, e.g. ``llamacpp:qwen1.5b``."""
    if s.llm == "llamacpp":
        return f"llamacpp:{s.llm_preset}"
    if s.llm == "openai":
        return f"openai:{s.openai_model}@{s.openai_base_url}"
    return f"ollama:{s.ollama_model}@{s.ollama_base_url}"


def get_llm(s: Settings) -> BaseChatModel:
    """The chat model for ``s``, created once per process and configuration."""
    key = _key(s)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(s)
        return _CACHE[key]


def _build(s: Settings) -> BaseChatModel:
    if s.llm == "llamacpp":
        from qa.components.llamacpp_chat import ChatLlamaCppLocal
        from qa.components.model_files import model_path

        return ChatLlamaCppLocal(
            model_path=str(model_path(s.llm_preset, s.model_cache)),
            n_ctx=s.n_ctx, n_batch=s.n_batch, n_threads=s.llm_threads, max_tokens=s.max_answer_tokens,
        )
    if s.llm == "openai":
        from langchain_openai import ChatOpenAI

        class ChatOpenAICompatible(ChatOpenAI):
            """ChatOpenAI that sends the answer budget as ``max_tokens``: langchain-openai renames it to
            ``max_completion_tokens``, which llama.cpp's server ignores (it would write until n_ctx)."""

            def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any) -> dict:
                payload = super()._get_request_payload(input_, stop=stop, **kwargs)
                if "max_completion_tokens" in payload:
                    payload["max_tokens"] = payload.pop("max_completion_tokens")
                return payload

        return ChatOpenAICompatible(
            base_url=s.openai_base_url, model=s.openai_model, api_key=s.openai_api_key,  # type: ignore[arg-type]
            temperature=0, max_tokens=s.max_answer_tokens, timeout=s.llm_timeout, max_retries=s.llm_retries,
            seed=0,
        )
    if s.llm == "ollama":
        import httpx
        from langchain_ollama import ChatOllama

        # the Ollama client has no retry policy of its own: retry failed connections in the transport
        return ChatOllama(
            base_url=s.ollama_base_url, model=s.ollama_model, temperature=0, num_predict=s.max_answer_tokens,
            seed=0, client_kwargs={"timeout": s.llm_timeout},
            sync_client_kwargs={"transport": httpx.HTTPTransport(retries=s.llm_retries)},
            async_client_kwargs={"transport": httpx.AsyncHTTPTransport(retries=s.llm_retries)},
        )
    raise BackendError(f"unknown LLM backend {s.llm!r}")


def backend_error(s: Settings, exc: BaseException) -> BackendError:
    """A one-line error naming the backend (and its URL) that failed."""
    detail = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return BackendError(f"LLM backend {backend_label(s)} failed: {detail[:300]}")


@contextmanager
def reported(s: Settings) -> Iterator[None]:
    """Any failure of the backend inside the block reaches the user as one line naming it (a QAError passes as is)."""
    try:
        yield
    except QAError:
        raise
    except Exception as exc:
        raise backend_error(s, exc) from exc
