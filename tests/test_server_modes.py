"""Client/server modes against real processes on loopback: a Chroma server, and llama.cpp's
OpenAI-compatible server serving SmolLM2."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from qa.answer.pipeline import Pipeline
from qa.errors import QAError
from qa.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(cmd: list[str], ready_url: str, log: Path, timeout: float = 90) -> Iterator[None]:
    """Start ``cmd``, wait until ``ready_url`` answers, stop it afterwards."""
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(ready_url, timeout=2).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}") from None
                    time.sleep(0.3)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    return corpus


def _check(answer, corpus: Path) -> None:
    assert answer.refused or answer.citations
    for c in answer.citations:
        assert (corpus / c.source).read_text()[c.start : c.end] == c.quote


def test_chroma_server_mode_ingest_reingest_and_ask(tmp_path):
    port = _free_port()
    corpus = _corpus(tmp_path)
    cmd = [str(BIN / "chroma"), "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1", "--port", str(port)]
    with _server(cmd, f"http://127.0.0.1:{port}/api/v2/heartbeat", tmp_path / "chroma.log"):
        s = load_settings(corpus=str(corpus), chroma_url=f"http://127.0.0.1:{port}", llm_preset="smollm2",
                          store=str(tmp_path / "unused"))
        p = Pipeline(s)
        first = p.ingest()
        assert len(first.added) == 5 and first.total_chunks > 20
        again = p.ingest()
        assert len(again.unchanged) == 5 and again.chunks_written == 0
        f = corpus / "003_c10cb973be8d9878.txt"
        f.write_text(f.read_text() + "\nA new closing line about border markets.\n")
        third = p.ingest()
        assert third.updated == ["003_c10cb973be8d9878.txt"]
        _check(p.ask("Who offered to mediate between Iran and Pakistan?"), corpus)
        assert not (tmp_path / "unused").exists()  # nothing was written to the local store


@pytest.mark.llm
def test_openai_compatible_backend_against_llama_cpp_server(tmp_path, seed_settings):
    from qa.components.model_files import model_path

    port = _free_port()
    gguf = model_path("smollm2", seed_settings.model_cache)
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "smollm2",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    with _server(cmd, f"http://127.0.0.1:{port}/v1/models", tmp_path / "llama.log"):
        s = seed_settings.replace(llm="openai", openai_base_url=f"http://127.0.0.1:{port}/v1", openai_model="smollm2",
                                  llm_timeout=60)
        p = Pipeline(s)
        stream = p.stream("What was the code name of Pakistan's retaliatory operation?")
        pieces = list(stream)
        assert "".join(pieces) == stream.answer.text
        _check(stream.answer, seed_settings.corpus)


def test_openai_backend_down_is_a_clear_error_naming_the_url(seed_settings):
    port = _free_port()  # nothing listens here
    url = f"http://127.0.0.1:{port}/v1"
    s = seed_settings.replace(llm="openai", openai_base_url=url, openai_model="m", llm_timeout=3)
    with pytest.raises(QAError, match=f"127.0.0.1:{port}"):
        Pipeline(s).ask("What was the code name of Pakistan's retaliatory operation?")
    env = dict(os.environ, QA_LLM="openai", QA_OPENAI_BASE_URL=url, QA_LLM_TIMEOUT="3",
               QA_STORE=str(seed_settings.store), QA_CORPUS=str(seed_settings.corpus))
    out = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "What was the code name of the operation?"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr and url in out.stderr
