"""The chat in the real app: each answer keeps its own sources, the chat exports as Markdown, and one
user cannot starve the others (per-user cap, queue limit, an immediate "Busy" instead of a hang).

A scripted model answers (what it says depends only on the question); the pipeline, Chroma, the embedder,
Gradio, gradio_client and headless Chromium are real.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from ui_support import (
    CHROMIUM,
    CODENAME_Q,
    MEDIATE_Q,
    ask_in_browser,
    chromium_page,
    screenshot,
    scripted,
    served,
    wait_until,
)

from qa.ui.gate import Busy, Gate

browser = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)")


# ---- the gate on its own ----------------------------------------------------------------------------
def test_gate_caps_each_user_and_the_queue_and_says_how_many_are_ahead():
    gate = Gate(per_user=1, queue_size=3, running=1)
    with gate.enter("alice") as a:
        assert gate.wait_turn(a, 0)
        with pytest.raises(Busy) as own:
            with gate.enter("alice"):
                pass
        assert own.value.own and "1 question ahead of yours" in own.value.message
        with gate.enter("bob") as b, gate.enter("carol") as c:
            assert gate.ahead(b) == 1 and gate.ahead(c) == 2
            assert not gate.wait_turn(b, 0), "only one answer runs at a time"
            with pytest.raises(Busy) as full:
                with gate.enter("dave"):
                    pass
            assert not full.value.own and full.value.message == "Busy: 3 questions ahead of yours; try again shortly."
    assert gate.in_flight() == 0


def test_gate_lets_the_next_answer_run_when_one_finishes():
    gate = Gate(per_user=1, queue_size=4, running=1)
    started = threading.Event()
    first_done = threading.Event()
    order: list[str] = []

    def second() -> None:
        with gate.enter("bob") as ticket:
            started.set()
            assert gate.wait_turn(ticket, 60)
            order.append("bob")

    with gate.enter("alice"):
        worker = threading.Thread(target=second)
        worker.start()
        assert started.wait(60)
        order.append("alice")
        first_done.set()
    worker.join(60)
    assert order == ["alice", "bob"] and gate.in_flight() == 0


# ---- through gradio_client ------------------------------------------------------------------------
def test_one_user_gets_busy_at_once_while_a_second_user_is_admitted(tmp_path):
    from gradio_client import Client

    hold = threading.Event()
    model = scripted(hold=hold)
    users = [("alice", "alice-pw"), ("bob", "bob-pw")]
    with served(tmp_path, model, auth=users) as (url, pipeline):
        gate = pipeline.app.qa_gate
        alice, bob = Client(url, auth=users[0], verbose=False), Client(url, auth=users[1], verbose=False)
        first = alice.submit(CODENAME_Q, "[]", api_name="/ask")
        assert model.entered.acquire(timeout=300), "the first answer never reached the model"
        again = alice.predict(MEDIATE_Q, "[]", api_name="/ask")  # returns at once: the model is still held
        assert again["busy"] and again["error"].startswith("Busy: your previous question is still being answered")
        assert "1 question ahead of yours" in again["error"]
        other = bob.submit(MEDIATE_Q, "[]", api_name="/ask")
        wait_until(lambda: gate.in_flight("bob@127.0.0.1") == 1, "bob's question to be admitted")
        assert not other.done()
        hold.set()
        got_first, got_other = first.result(timeout=300), other.result(timeout=300)
    assert "Marg Bar Sarmachar" in got_first["text"] and got_first["citations"]
    assert "busy" not in got_other and "China" in got_other["text"] and got_other["citations"]


def test_a_full_queue_answers_busy_with_the_count(tmp_path):
    from gradio_client import Client

    hold = threading.Event()
    model = scripted(hold=hold)
    users = [("alice", "a-pw"), ("bob", "b-pw")]
    with served(tmp_path, model, auth=users, ui_queue_size=1) as (url, _):
        alice, bob = Client(url, auth=users[0], verbose=False), Client(url, auth=users[1], verbose=False)
        first = alice.submit(CODENAME_Q, "[]", api_name="/ask")
        assert model.entered.acquire(timeout=300)
        busy = bob.predict(MEDIATE_Q, "[]", api_name="/ask")
        hold.set()
        assert first.result(timeout=300)["citations"]
    assert busy["busy"] and busy["error"] == "Busy: 1 question ahead of yours; try again shortly."


# ---- in headless Chromium -------------------------------------------------------------------------
@pytest.mark.browser
@browser
def test_browser_each_answer_keeps_its_own_sources_and_the_chat_exports(tmp_path):
    with served(tmp_path, scripted()) as (url, _), chromium_page(url) as page:
        first = ask_in_browser(page, CODENAME_Q, 0)
        second = ask_in_browser(page, MEDIATE_Q, 1)
        assert "Marg Bar Sarmachar" in first.inner_text() and "China offered" in second.inner_text()
        # [1] in the EARLIER answer opens that answer's own source, not the latest one's
        first.locator("a", has_text="[1]").click()
        active = page.locator("#qa-chat .qa-cite.qa-active")
        active.wait_for(timeout=30_000)
        assert "Marg Bar Sarmachar" in active.inner_text() and "004_df5bf45f4cf73b0f.txt" in active.inner_text()
        assert active.is_visible()
        page.wait_for_function("() => document.querySelector('#qa-sources').innerText.includes('Marg Bar Sarmachar')",
                               timeout=30_000)
        screenshot(page, "ui_earlier_answer_sources.png")
        second.locator("a", has_text="[1]").click()
        page.wait_for_function(
            "() => { const a = document.querySelectorAll('#qa-chat .qa-cite.qa-active');"
            " return a.length === 1 && a[0].innerText.includes('offered to mediate'); }", timeout=30_000)
        page.wait_for_function("() => document.querySelector('#qa-sources').innerText.includes('offered to mediate')",
                               timeout=30_000)
        with page.expect_download(timeout=60_000) as download:
            page.locator("#qa-export").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert download.value.suggested_filename.endswith(".md")
    assert f"## Question 1\n\n{CODENAME_Q}" in exported and f"## Question 2\n\n{MEDIATE_Q}" in exported
    assert "Marg Bar Sarmachar [1]" in exported and "China offered to mediate between the two countries [1]" in exported
    assert exported.count("- [1] ") == 2 and "codenamed ‘Marg Bar Sarmachar" in exported


@pytest.mark.browser
@browser
def test_browser_second_question_of_the_same_user_gets_busy_at_once(tmp_path):
    hold = threading.Event()
    model = scripted(hold=hold)
    with served(tmp_path, model) as (url, _), chromium_page(url) as page:
        box = page.locator("#qa-question textarea")
        box.fill(CODENAME_Q)
        box.press("Enter")
        assert model.entered.acquire(timeout=300)
        # while the model reads, the chat says what it reads rather than "Searching"
        page.wait_for_function("() => { const b = document.querySelectorAll('#qa-chat [data-testid=\"bot\"]');"
                               " return b.length === 1 && /^Reading \\d+ sentences? from «.+»/.test(b[0].innerText); }",
                               timeout=60_000)
        screenshot(page, "ui_reading.png")
        other_tab = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
        other_tab.goto(url)
        busy = ask_in_browser(other_tab, MEDIATE_Q, 0)
        assert "Busy: your previous question is still being answered (1 question ahead of yours)" in busy.inner_text()
        assert other_tab.locator("#qa-question textarea").input_value() == MEDIATE_Q, "the question is kept to retry"
        screenshot(other_tab, "ui_busy.png")
        hold.set()
        page.locator("#qa-chat [data-testid='bot']", has_text="Marg Bar Sarmachar").wait_for(timeout=300_000)
