"""The OpenAI-compatible backend's failure handling, against a scripted server on loopback:
retries after server errors, a timeout on a server that hangs, and a clear error naming the URL.

The real-server test (llama.cpp's OpenAI server with SmolLM2) is in test_server_modes.py; here a
stub lets each failure happen on cue.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from stub_server import HANG_SECONDS, cite_code_name, stub_server

from qa.answer.pipeline import Pipeline
from qa.errors import QAError

QUESTION = "What was the code name of Pakistan's retaliatory operation?"


def _sse(text: str) -> bytes:
    chunks = [text[:20], text[20:]]
    events = [
        {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "stub",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": c}, "finish_reason": None}]}
        for c in chunks
    ]
    events.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


@contextmanager
def openai_stub(script: Callable[[int], str]) -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    """An OpenAI-compatible /v1 whose n-th request fares as ``script(n)`` says: ok, error or hang."""

    def reply(path: str, body: dict, n: int) -> tuple[int, str, bytes] | None:
        fate = script(n)
        if fate == "hang":
            return None
        if fate == "error":
            return 500, "application/json", b'{"error": {"message": "model crashed", "type": "server_error"}}'
        return 200, "text/event-stream", _sse(cite_code_name(body["messages"][-1]["content"]))

    with stub_server(reply) as (url, requests):
        yield f"{url}/v1", requests


def _pipeline(seed_settings, url: str, **overrides: object) -> Pipeline:
    return Pipeline(seed_settings.replace(llm="openai", openai_base_url=url, openai_model="stub", **overrides))


def test_request_shape_and_streamed_answer(seed_pipeline, seed_settings):
    with openai_stub(lambda n: "ok") as (url, requests):
        stream = _pipeline(seed_settings, url).stream(QUESTION)
        pieces = list(stream)
    answer = stream.answer
    assert "".join(pieces) == answer.text and "Marg Bar Sarmachar" in answer.text and not answer.refused
    assert [c.source[:4] for c in answer.citations] == ["004_"]
    body = requests[0][1]
    assert body["model"] == "stub" and body["stream"] is True and body["temperature"] == 0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["max_tokens"] == seed_settings.max_answer_tokens and "max_completion_tokens" not in body


def test_server_errors_are_retried(seed_pipeline, seed_settings):
    with openai_stub(lambda n: "error" if n <= 2 else "ok") as (url, requests):
        answer = _pipeline(seed_settings, url, llm_retries=2).ask(QUESTION)
    assert len(requests) == 3 and "Marg Bar Sarmachar" in answer.text


def test_persistent_server_error_names_the_url(seed_pipeline, seed_settings):
    with openai_stub(lambda n: "error") as (url, requests):
        with pytest.raises(QAError, match=re.escape(url)) as err:
            _pipeline(seed_settings, url, llm_retries=1).ask(QUESTION)
    assert len(requests) == 2 and "model crashed" in str(err.value)


def test_a_hanging_server_times_out(seed_pipeline, seed_settings):
    with openai_stub(lambda n: "hang") as (url, requests):
        t = time.monotonic()
        with pytest.raises(QAError, match=re.escape(url)) as err:
            _pipeline(seed_settings, url, llm_timeout=1, llm_retries=0).ask(QUESTION)
        assert time.monotonic() - t < HANG_SECONDS  # it gave up, rather than waiting for the server's reply
    assert len(requests) == 1 and "timed out" in str(err.value).lower()
