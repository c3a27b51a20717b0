"""Shared parts of the UI tests: a scripted chat model, a served app, headless Chromium, waits."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"

CODENAME_Q = "What was the code name of Pakistan's retaliatory operation?"
MEDIATE_Q = "Who offered to mediate between Iran and Pakistan?"
REPLIES = {
    "code name": "The operation was codenamed Marg Bar Sarmachar [1].",
    "mediate": "China offered to mediate between the two countries [1].",
}


class ScriptedModel(BaseChatModel):
    """A chat model whose answer depends on the question asked (not on its quality): ``replies`` maps a
    question substring to the draft; a follow-up is condensed to itself. While ``hold`` is set to an
    unset Event, answering waits for it; ``entered`` counts answers that reached the model."""

    replies: dict[str, str] = {}
    hold: Any = None
    entered: Any = None

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        text = str(messages[-1].content)
        if "Standalone question:" in text:
            reply = text.split("Follow-up question:")[-1].split("\n")[0].strip()
        else:
            if self.entered is not None:
                self.entered.release()
            if self.hold is not None:
                self.hold.wait(300)
            asked = text.rsplit("Question:", 1)[-1]
            reply = next((r for key, r in self.replies.items() if key in asked), "NOT FOUND")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


def scripted(replies: dict[str, str] | None = None, hold: threading.Event | None = None) -> ScriptedModel:
    """A scripted model (with the default replies); ``model.entered`` is a semaphore released per answer."""
    return ScriptedModel(replies=dict(REPLIES if replies is None else replies), hold=hold,
                         entered=threading.Semaphore(0))


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_corpus(base: Path) -> Path:
    """A fresh copy of the seed articles under ``base``."""
    corpus = base / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    return corpus


@contextlib.contextmanager
def served(base: Path, model: BaseChatModel, auth: Any = None, **overrides: Any) -> Iterator[tuple[str, Any]]:
    """The real app over a copy of the seeds with ``model``, on a free loopback port: (url, pipeline)."""
    from qa.answer.pipeline import Pipeline
    from qa.settings import load_settings
    from qa.ui.app import build_app, launch

    corpus = overrides.pop("corpus", None) or seed_corpus(base)
    settings = load_settings(corpus=str(corpus), store=str(base / "store"), llm_preset="smollm2", **overrides)
    pipeline = Pipeline(settings, llm=model)
    pipeline.ensure_index()
    app = build_app(pipeline=pipeline)
    port = free_port()
    launch(app, "127.0.0.1", port, auth=auth, block=False)
    pipeline.app = app  # type: ignore[attr-defined]  # the test reaches the gate through it
    try:
        yield f"http://127.0.0.1:{port}/", pipeline
    finally:
        app.close()


@contextlib.contextmanager
def chromium_page(url: str) -> Iterator[Any]:
    """A page of headless Debian Chromium, opened at ``url``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(url)
            yield page
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot to tests/artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def wait_until(condition: Callable[[], bool], what: str, tries: int = 6000) -> None:
    """Wait (bounded, checking every 50 ms) until ``condition()`` holds; fail naming ``what`` otherwise."""
    for _ in range(tries):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def http_ok(url: str) -> bool:
    """True once ``url`` answers at all (any HTTP status)."""
    try:
        urllib.request.urlopen(url, timeout=5).read()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def ask_in_browser(page: Any, question: str, answers_before: int) -> Any:
    """Type ``question`` into the chat and wait until its answer is final; the answer's message element.

    On a timeout the page is saved to tests/artifacts/timeout.png and the chat's text is in the error."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    bot = page.locator("#qa-chat [data-testid='bot']")
    try:
        page.wait_for_function(
            "([n]) => { const b = document.querySelectorAll('#qa-chat [data-testid=\"bot\"]');"
            " if (b.length <= n) return false; const t = b[b.length - 1].innerText;"
            " const tracker = document.querySelector('#qa-chat [data-testid=\"status-tracker\"]');"
            " return !t.includes('▌') && !t.includes('Searching the documents') && !t.includes('Waiting:')"
            " && !/^Reading \\d+ sentences? from/.test(t)"
            " && (!tracker || tracker.classList.contains('hide')); }",
            arg=[answers_before], timeout=600_000)
    except PlaywrightTimeout as exc:
        screenshot(page, "timeout.png")
        raise AssertionError(f"no final answer to {question!r}; the chat shows: {page.locator('#qa-chat').inner_text()}") from exc
    return bot.nth(answers_before)
