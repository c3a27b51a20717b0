"""The Gradio UI: rendering units, the gradio_client API, and a real headless Chromium session."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest

from qa.models import Answer, Citation, Passage
from qa.ui.app import build_app, safe_upload_name
from qa.ui.render import linked_answer, sources_html

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CODENAME_Q = "What was the code name of Pakistan's retaliatory operation?"


QUOTE = "A number of terrorists were killed during the operation – codenamed ‘Marg Bar Sarmachar'"


def _answer(text_in_doc: str = QUOTE) -> Answer:
    passage = Passage("004_df5bf45f4cf73b0f.txt", "Pak launches strikes", "Before. " + text_in_doc + " <script>x</script>",
                      100, 100 + len("Before. " + text_in_doc + " <script>x</script>"), "004:100", 0.9)
    start = 100 + len("Before. ")
    cite = Citation(1, passage.source, text_in_doc, start, start + len(text_in_doc), passage.chunk_id, passage.title)
    return Answer("q", "It was codenamed Marg Bar Sarmachar [1].", [cite], False, [passage])


def test_sources_panel_shows_file_title_and_highlighted_quote_escaped():
    html = sources_html(_answer(), show_evidence=True)
    assert "004_df5bf45f4cf73b0f.txt" in html and "Pak launches strikes" in html
    assert "<mark>A number of terrorists" in html and "id='src-1'" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "score 0.900" in html


def test_answer_markers_link_to_sources_and_refusals_look_different():
    assert "(#src-1)" in linked_answer(_answer())
    refusal = Answer("q", "The sources do not say.", refused=True, reason="Nothing relevant.")
    assert "do not say" in linked_answer(refusal) and "(#src-" not in linked_answer(refusal)
    assert "qa-refusal" in sources_html(refusal)


@pytest.mark.parametrize("name,expected", [
    ("notes.txt", "notes.txt"), ("../../etc/passwd", None), ("..\\..\\evil.md", "evil.md"),
    (".hidden.txt", None), ("page.html", "page.html"), ("run.sh", None), ("a/b/c.md", "c.md"),
])
def test_upload_names_stay_inside_the_corpus(name, expected):
    assert safe_upload_name(name) == expected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    """The app on a free loopback port, over a copy of the seeds, with the default model."""
    base = tmp_path_factory.mktemp("ui")
    corpus = base / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    overrides = {"corpus": str(corpus), "store": str(base / "store"), "llm_preset": "qwen1.5b"}
    from qa.api import get_pipeline

    get_pipeline(**overrides).ensure_index()
    app = build_app(**overrides)
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_gradio_client_named_endpoint(running_app):
    from gradio_client import Client

    client = Client(running_app, verbose=False)
    result = client.predict(CODENAME_Q, "[]", api_name="/ask")
    assert set(result) >= {"text", "refused", "citations"}
    assert not result["refused"] and "Marg Bar Sarmachar" in result["text"]
    assert result["citations"][0]["source"] == "004_df5bf45f4cf73b0f.txt"
    bad = client.predict("   ", "[]", api_name="/ask")
    assert bad["error"] == "question is empty"


def test_a_second_user_is_served_while_an_answer_is_generated(running_app):
    from gradio_client import Client

    first, second = Client(running_app, verbose=False), Client(running_app, verbose=False)
    job = first.submit("Who offered to mediate between Iran and Pakistan?", "[]", api_name="/ask")
    for _ in range(6000):  # wait (bounded) until the first answer is being generated
        if job.status().code.name not in ("STARTING", "JOINING_QUEUE", "QUEUE"):
            break
        time.sleep(0.01)
    quick = second.predict("", "[]", api_name="/ask")  # needs no model: answered at once
    assert quick["error"] == "question is empty"
    assert not job.done(), "the second user had to wait for the first answer"
    assert set(job.result()) >= {"text", "citations"}


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_browser_chat_streams_cites_and_follows_up(running_app, tmp_path):
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(running_app)
        box = page.locator("#qa-question textarea")
        box.fill(CODENAME_Q)
        box.press("Enter")
        sources = page.locator("#qa-sources")
        sources.locator(".qa-cite").first.wait_for(timeout=120_000)
        assert "004_df5bf45f4cf73b0f.txt" in sources.inner_text()
        assert "Marg Bar Sarmachar" in sources.locator("mark").first.inner_text()
        bot = page.locator("#qa-chat .message.bot, #qa-chat [data-testid='bot']")
        assert "Marg Bar Sarmachar" in bot.last.inner_text()
        # a follow-up that only makes sense with the history
        box.fill("Which province of Iran did it target?")
        box.press("Enter")
        page.wait_for_function(
            "() => { const t = document.querySelector('#qa-chat').innerText;"
            " return t.includes('Which province') && !t.includes('▌') && !t.includes('Searching the documents')"
            " && !t.includes('processing'); }", timeout=120_000)
        follow = bot.last.inner_text()
        assert follow.strip()
        shot = tmp_path / "ui.png"
        page.screenshot(path=str(shot), full_page=True)
        artifacts = ROOT / "tests" / "artifacts"
        artifacts.mkdir(exist_ok=True)
        shutil.copyfile(shot, artifacts / "ui.png")
        browser.close()
