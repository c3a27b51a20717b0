"""The Ollama backend (langchain-ollama) against a stub of Ollama's /api/chat on loopback: the request
shape it sends, an answer through the whole pipeline, and clear errors naming the URL."""

from __future__ import annotations

import json
import re

import pytest
from stub_server import cite_code_name, stub_server

from qa.answer.pipeline import Pipeline
from qa.components.llm import get_llm
from qa.errors import QAError

QUESTION = "What was the code name of Pakistan's retaliatory operation?"


def _ndjson(text: str) -> bytes:
    """Ollama's streamed chat reply: one JSON object per line, the last with done=true."""
    parts = [text[:15], text[15:]]
    lines = [{"model": "qwen2.5:1.5b", "created_at": "2026-01-01T00:00:00Z",
              "message": {"role": "assistant", "content": p}, "done": False} for p in parts]
    lines.append({"model": "qwen2.5:1.5b", "created_at": "2026-01-01T00:00:00Z",
                  "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                  "total_duration": 1, "prompt_eval_count": 10, "eval_count": 5})
    return b"".join(json.dumps(x).encode() + b"\n" for x in lines)


def _ollama(reply_text=lambda body: "Hello there."):
    def reply(path: str, body: dict, n: int):
        if path != "/api/chat":
            return 404, "application/json", b'{"error": "not found"}'
        return 200, "application/x-ndjson", _ndjson(reply_text(body))

    return stub_server(reply)


def test_request_shape(seed_settings):
    with _ollama() as (url, requests):
        s = seed_settings.replace(llm="ollama", ollama_base_url=url, ollama_model="qwen2.5:1.5b")
        out = get_llm(s).invoke([("system", "S"), ("human", "Q")])
    assert out.content == "Hello there."
    [(path, body)] = requests
    assert path == "/api/chat" and body["model"] == "qwen2.5:1.5b" and body["stream"] is True
    assert body["messages"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    opts = body["options"]
    assert (opts["temperature"], opts["num_predict"], opts["seed"]) == (0, s.max_answer_tokens, 0)


def test_answer_through_the_pipeline(seed_pipeline, seed_settings):
    with _ollama(lambda body: cite_code_name(body["messages"][-1]["content"])) as (url, requests):
        s = seed_settings.replace(llm="ollama", ollama_base_url=url)
        answer = Pipeline(s).ask(QUESTION)
    assert not answer.refused and "Marg Bar Sarmachar" in answer.text
    assert [c.source[:4] for c in answer.citations] == ["004_"]
    assert "<sentences>" in requests[0][1]["messages"][-1]["content"]


def test_server_error_names_the_url(seed_pipeline, seed_settings):
    def broken(path: str, body: dict, n: int):
        return 500, "application/json", b'{"error": "model runner has unexpectedly stopped"}'

    with stub_server(broken) as (url, _):
        s = seed_settings.replace(llm="ollama", ollama_base_url=url)
        with pytest.raises(QAError, match=re.escape(url)) as err:
            Pipeline(s).ask(QUESTION)
    assert "unexpectedly stopped" in str(err.value)


def test_server_down_names_the_url(seed_pipeline, seed_settings):
    with stub_server(lambda *a: None) as (url, _):
        pass  # the port is closed again: nothing listens there
    s = seed_settings.replace(llm="ollama", ollama_base_url=url, llm_retries=1)
    with pytest.raises(QAError, match=re.escape(url)):
        Pipeline(s).ask(QUESTION)
