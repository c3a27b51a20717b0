"""The Gradio UI: rendering units, and the real app with the small model through gradio_client and Chromium.

The other UI tests: test_ui_chat.py (per-answer sources, export, busy), test_ui_security.py (login,
uploads, folder import, removal).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from ui_support import CHROMIUM, CODENAME_Q, ask_in_browser, chromium_page, screenshot, served

from qa.models import Answer, Citation, Passage, Progress
from qa.ui.render import chat_markdown, copy_text, linked_answer, reading_status, sources_html

QUOTE = "A number of terrorists were killed during the operation – codenamed ‘Marg Bar Sarmachar'"


@dataclass(frozen=True)
class PagedCitation(Citation):
    """A citation of a paged format (PDF), as the ingest branch adds ``page``."""

    page: int | None = None


def _answer(text_in_doc: str = QUOTE, page: int | None = None) -> Answer:
    passage = Passage("004_df5bf45f4cf73b0f.txt", "Pak launches strikes", "Before. " + text_in_doc + " <script>x</script>",
                      100, 100 + len("Before. " + text_in_doc + " <script>x</script>"), "004:100", 0.9)
    start = 100 + len("Before. ")
    cite = PagedCitation(1, passage.source, text_in_doc, start, start + len(text_in_doc), passage.chunk_id, passage.title,
                         page=page)
    return Answer("q", "It was codenamed Marg Bar Sarmachar [1].", [cite], False, [passage])


def test_sources_panel_shows_file_title_and_highlighted_quote_escaped():
    html = sources_html(_answer(), show_evidence=True)
    assert "004_df5bf45f4cf73b0f.txt" in html and "Pak launches strikes" in html
    assert "<mark>A number of terrorists" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "score 0.900" in html
    assert "p. " not in html


def test_each_answer_links_to_its_own_sources_block_and_refusals_look_different():
    first, second = linked_answer(_answer(), "m1"), linked_answer(_answer("Before the strikes"), "m3")
    assert "(#src-m1-1)" in first and "id='src-m1-1'" in first and "<details class='qa-msg-sources'>" in first
    assert "(#src-m3-1)" in second and "src-m1-1" not in second
    assert "<script>" not in first
    block = first.split("\n\n", 1)[1]
    assert "\n" not in block, "a newline would end the HTML block inside the chat's Markdown"
    refusal = Answer("q", "The sources do not say.", refused=True, reason="Nothing relevant.")
    assert "do not say" in linked_answer(refusal) and "#src-" not in linked_answer(refusal)
    assert "qa-refusal" in sources_html(refusal)


def test_page_numbers_appear_in_the_sources_when_set():
    answer = _answer(page=7)
    assert "p. 7" in sources_html(answer) and "p. 7" in linked_answer(answer, "m1")
    assert "004_df5bf45f4cf73b0f.txt, p. 7" in copy_text(answer)


def test_chat_exports_as_markdown_with_numbered_sources():
    refusal = Answer("q2", "The sources do not say.", refused=True, reason="Nothing relevant.")
    md = chat_markdown([("What was it codenamed?", _answer(page=3)), ("Who won?", refusal)], when=0)
    assert md.startswith("# qa chat, exported ")
    assert "## Question 1\n\nWhat was it codenamed?" in md and "## Question 2\n\nWho won?" in md
    assert "It was codenamed Marg Bar Sarmachar [1]." in md
    assert f'- [1] 004_df5bf45f4cf73b0f.txt, p. 3 — "{QUOTE}"' in md
    assert "The sources do not say. (Nothing relevant.)" in md


# ---- the real app with the real small model: only the UI's behaviour is asserted, not the answer's quality ----
@pytest.fixture(scope="module")
def small_model_app(tmp_path_factory):
    from qa.components.llm import get_llm
    from qa.settings import load_settings

    with served(tmp_path_factory.mktemp("ui"), get_llm(load_settings(llm_preset="smollm2"))) as (url, pipeline):
        yield url, pipeline.settings.corpus


@pytest.mark.llm
def test_gradio_client_named_endpoint(small_model_app):
    from gradio_client import Client

    url, corpus = small_model_app
    client = Client(url, verbose=False)
    result = client.predict(CODENAME_Q, "[]", api_name="/ask")
    assert set(result) >= {"text", "refused", "citations"}
    for c in result["citations"]:  # whatever the small model says, each quote is the file's exact text
        assert (corpus / c["source"]).read_text(encoding="utf-8")[c["start"]:c["end"]] == c["quote"]
        assert c["page"] is None
    bad = client.predict("   ", "[]", api_name="/ask")
    assert bad["error"] == "question is empty"


@pytest.mark.llm
@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_browser_chat_with_the_small_model_answers_or_refuses_and_follows_up(small_model_app):
    with chromium_page(small_model_app[0]) as page:
        first = ask_in_browser(page, CODENAME_Q, 0)
        text = first.inner_text()
        assert "Sources (" in text or "The sources do not say" in text
        follow = ask_in_browser(page, "Which province of Iran did it target?", 1)
        assert follow.inner_text().strip()
        screenshot(page, "ui.png")


def test_the_reading_status_names_the_documents_escaped_and_short():
    one = reading_status(Progress(1, ("Iran <b>strikes</b> **back**",)))
    assert one == "_Reading 1 sentence from «Iran &lt;b&gt;strikes&lt;/b&gt; \\*\\*back\\*\\*»…_"
    many = reading_status(Progress(9, ("A", "B", "C" * 100, "D", "E")))
    assert many == "_Reading 9 sentences from «A», «B», «" + "C" * 59 + "…» and 2 more…_"

