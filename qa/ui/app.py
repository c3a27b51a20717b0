"""``qa ui``: a streaming Gradio chat over the pipeline, with per-answer sources, the indexed files and uploads."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from qa.answer.pipeline import Pipeline  # noqa: E402
from qa.api import get_pipeline  # noqa: E402
from qa.components.llm import backend_label  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.ingest.loader import SUFFIXES  # noqa: E402
from qa.models import Answer, Progress  # noqa: E402
from qa.ui.documents import add_file, import_folder, import_roots, remove_file  # noqa: E402
from qa.ui.gate import Busy, Gate  # noqa: E402
from qa.ui.render import (  # noqa: E402
    CSS,
    HEAD,
    chat_markdown,
    copy_text,
    corpus_bar,
    linked_answer,
    reading_status,
    sources_html,
)

SEARCHING = "_Searching the documents…_"
EXAMPLES = [
    "What was the code name of Pakistan's retaliatory operation?",
    "How many people were killed in the strikes?",
    "Who offered to mediate between Iran and Pakistan?",
]
_EXPORTS = Path(tempfile.gettempdir()) / "qa-ui-exports"


def user_of(request: gr.Request | None) -> str:
    """Whom an answer counts against: the login name (if any) at the client's address."""
    if request is None:
        return "local"
    host = request.client.host if getattr(request, "client", None) else "?"
    return f"{getattr(request, 'username', None) or ''}@{host}"


def _waiting(ahead: int) -> str:
    return f"_Waiting: {ahead} question{'s' if ahead != 1 else ''} ahead of yours…_"


def _export_file(turns: list[tuple[str, Answer, int]]) -> str | None:
    """The chat as a Markdown file (a fresh path each time), or None for an empty chat."""
    if not turns:
        return None
    _EXPORTS.mkdir(exist_ok=True)
    for old in _EXPORTS.glob("*/qa-chat.md"):  # exports are copied by Gradio at once; keep the last hour's
        with contextlib.suppress(OSError):  # another session may be removing it too
            if old.stat().st_mtime < time.time() - 3600:
                old.unlink()
                old.parent.rmdir()
    folder = _EXPORTS / uuid.uuid4().hex
    folder.mkdir()
    path = folder / "qa-chat.md"
    path.write_text(chat_markdown([(q, a) for q, a, _ in turns]), encoding="utf-8")
    return str(path)


def build_app(pipeline: Pipeline | None = None, **overrides: Any) -> gr.Blocks:
    """The chat app for ``pipeline`` (default: the pipeline configured by ``overrides``)."""
    pipeline = pipeline or get_pipeline(**overrides)
    settings = pipeline.settings
    gate = Gate(settings.ui_user_answers, settings.ui_queue_size, settings.ui_concurrent_answers)
    roots = import_roots(settings.import_roots)
    max_bytes = int(settings.upload_max_mb * 2**20)
    corpus = Path(settings.corpus)

    def bar() -> str:
        store = pipeline.store
        return corpus_bar(len(store.indexed_files()), store.count(), store.last_indexed(), backend_label(settings))

    def files_view():  # type: ignore[no-untyped-def]
        records = sorted(pipeline.store.indexed_files().values(), key=lambda r: r.source)
        rows = [[r.source, r.chunks] for r in records] or [["(no files indexed)", 0]]
        return rows, gr.update(choices=[r.source for r in records], value=None)

    def respond(message: str, chat: list, history: list, turns: list, show_evidence: bool,
                request: gr.Request):  # type: ignore[no-untyped-def]
        chat = [*(chat or []), {"role": "user", "content": message}]
        keep = gr.skip()
        try:
            stream = pipeline.stream(message, history)  # checks the question before taking a place
            with gate.enter(user_of(request)) as ticket:
                chat.append({"role": "assistant", "content": SEARCHING})
                yield chat, keep, history, turns, None, "", keep
                shown = 0
                while not gate.wait_turn(ticket, 1.0):
                    ahead = gate.ahead(ticket)
                    if ahead != shown:
                        shown = ahead
                        chat[-1] = {"role": "assistant", "content": _waiting(ahead)}
                        yield chat, keep, history, turns, None, "", keep
                text = ""
                for event in stream.events():  # what the model reads, until the first verified text
                    if isinstance(event, Progress):
                        if text:
                            continue
                        chat[-1] = {"role": "assistant", "content": reading_status(event)}
                    else:
                        text += event
                        chat[-1] = {"role": "assistant", "content": text + " ▌"}
                    yield chat, keep, history, turns, None, "", keep
                answer = stream.answer
                assert answer is not None
        except Busy as busy:
            chat.append({"role": "assistant", "content": f"> ⏳ {busy.message}"})
            yield chat, keep, history, turns, None, message, keep
            return
        except QAError as exc:
            if chat[-1]["role"] == "assistant":
                chat.pop()
            chat.append({"role": "assistant", "content": f"> ❗ {exc}"})
            yield chat, keep, history, turns, None, message, keep
            return
        at = len(chat) - 1
        chat[-1] = {"role": "assistant", "content": linked_answer(answer, f"m{at}")}
        history = [*history, (message, answer.text)]
        turns = [*turns, (message, answer, at)]
        yield chat, sources_html(answer, show_evidence), history, turns, answer, "", _export_file(turns)

    def show_selected(turns: list, show: bool, event: gr.SelectData):  # type: ignore[no-untyped-def]
        """Clicking an answer (or one of its [n]) shows that answer's sources in the panel."""
        index = event.index[0] if isinstance(event.index, list | tuple) else event.index
        answer = next((a for _, a, at in turns if at == index), None)
        return (sources_html(answer, show), answer) if answer is not None else (gr.skip(), gr.skip())

    def toggle(answer: Answer | None, show: bool) -> str:
        return sources_html(answer, show)

    def clear():  # type: ignore[no-untyped-def]
        return [], [], [], None, sources_html(None), "", None

    def add_documents(files: list | None, folder: str = "", progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        """Copy uploads (and, if allowed, a server folder's files) into the corpus and index them."""
        notes = [add_file(Path(getattr(f, "name", f)), Path(getattr(f, "name", f)).name, corpus, max_bytes)
                 for f in files or []]
        if folder and folder.strip():
            notes += import_folder(folder, roots, corpus, max_bytes)
        if not notes:
            notes.append("nothing to add: choose files" + (" or a folder" if roots else ""))
        progress(0.1, desc="indexing")
        try:
            report = pipeline.ingest()
        except QAError as exc:
            return "\n".join([*notes, f"❗ {exc}"]), bar(), *files_view()
        notes += [f"skipped {s.source}: {s.reason}" for s in report.skipped]
        return "\n".join(f"- {n}" for n in [*notes, report.summary()]), bar(), *files_view()

    def remove(source: str | None):  # type: ignore[no-untyped-def]
        """Delete one indexed file from the corpus folder and re-index, so it can no longer be cited."""
        if not source:
            return "choose a file to remove", bar(), *files_view()
        note = remove_file(source, set(pipeline.store.indexed_files()), corpus)
        try:
            report = pipeline.ingest()
        except QAError as exc:
            return f"{note}\n❗ {exc}", bar(), *files_view()
        return f"- {note}\n- {report.summary()}", bar(), *files_view()

    def api_ask(question: str, history_json: str, request: gr.Request) -> dict:
        """Named API endpoint: question plus JSON history in, answer with citations out."""
        try:
            history = json.loads(history_json or "[]")
            stream = pipeline.stream(question, history)
            with gate.enter(user_of(request)) as ticket:
                while not gate.wait_turn(ticket, 1.0):
                    pass
                answer = stream.result()
        except Busy as busy:
            return {"error": busy.message, "busy": True, "text": "", "refused": True, "citations": []}
        except (QAError, json.JSONDecodeError) as exc:
            return {"error": str(exc), "text": "", "refused": True, "citations": []}
        return {"text": answer.text, "refused": answer.refused, "reason": answer.reason,
                "citations": [{"n": c.n, "source": c.source, "quote": c.quote, "start": c.start, "end": c.end,
                               "page": getattr(c, "page", None)} for c in answer.citations]}

    accepted = " ".join(sorted(SUFFIXES))
    with gr.Blocks(title="qa — answers with verified citations", delete_cache=(3600, 3600)) as app:
        gr.Markdown("## qa — ask the documents\nEvery claim cites the file and the exact sentence it comes from.")
        corpus_md = gr.Markdown(bar())
        history = gr.State([])
        turns = gr.State([])  # (question, Answer, chat index of the answer) per answered turn
        last = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=460, buttons=["copy"], elem_id="qa-chat")
                question = gr.Textbox(placeholder="Ask a question about the documents…", show_label=False,
                                      elem_id="qa-question", max_lines=4)
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="qa-send")
                    clear_btn = gr.Button("Clear chat", elem_id="qa-clear")
                    copy_btn = gr.Button("Copy answer with citations", elem_id="qa-copy")
                    export = gr.DownloadButton("Export chat (.md)", value=None, elem_id="qa-export")
                copy_box = gr.Textbox(label="Answer with citations", buttons=["copy"], visible=True, lines=3)
                gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=2):
                gr.Markdown("### Sources\nOf the latest answer, or of the answer you click.")
                show_evidence = gr.Checkbox(label="Show all retrieved evidence with scores", value=False)
                sources = gr.HTML(sources_html(None), elem_id="qa-sources")
                with gr.Accordion("Indexed files", open=False):
                    files_table = gr.Dataframe(headers=["file", "chunks"], datatype=["str", "number"],
                                               interactive=False, elem_id="qa-files")
                    to_remove = gr.Dropdown(label="File to remove from the corpus folder", choices=[],
                                            elem_id="qa-remove-choice")
                    remove_btn = gr.Button("Remove and re-index", variant="stop", elem_id="qa-remove")
                with gr.Accordion("Add documents", open=False):
                    uploads = gr.File(file_count="multiple", label=f"Upload files ({accepted}; "
                                      f"at most {settings.upload_max_mb:g} MiB each)", elem_id="qa-upload")
                    add_inputs: list[gr.components.Component] = [uploads]
                    if roots:  # server folders only under the operator's roots; otherwise no field at all
                        add_inputs.append(gr.Textbox(  # the roots go in `info`: the label is shown before login
                            label="…or a folder on the server to copy from", elem_id="qa-folder",
                            info="inside " + ", ".join(str(r) for r in roots) + " (files directly in it)"))
                    index_btn = gr.Button("Add and re-index", elem_id="qa-add")
                index_status = gr.Markdown(elem_id="qa-index-status")
        exported = [export]
        outputs = [chat, sources, history, turns, last, question, *exported]
        inputs = [question, chat, history, turns, show_evidence]
        limit = settings.ui_queue_size + 4  # every admitted answer, plus room to say "busy" at once
        question.submit(respond, inputs, outputs, api_visibility="private", concurrency_limit=limit,
                        concurrency_id="answer")
        send.click(respond, inputs, outputs, api_visibility="private", concurrency_limit=limit,
                   concurrency_id="answer")
        chat.select(show_selected, [turns, show_evidence], [sources, last], api_visibility="private")
        show_evidence.change(toggle, [last, show_evidence], sources, api_visibility="private")
        clear_btn.click(clear, None, [chat, history, turns, last, sources, copy_box, export], api_visibility="private")
        copy_btn.click(copy_text, last, copy_box, api_visibility="private")
        file_outputs = [index_status, corpus_md, files_table, to_remove]
        index_btn.click(add_documents, add_inputs, file_outputs, api_name="add_documents")
        remove_btn.click(remove, to_remove, file_outputs, api_name="remove_file")
        app.load(files_view, None, [files_table, to_remove], api_visibility="private")
        api_q = gr.Textbox(visible=False)
        api_h = gr.Textbox(visible=False, value="[]")
        api_out = gr.JSON(visible=False)
        api_btn = gr.Button(visible=False)
        api_btn.click(api_ask, [api_q, api_h], api_out, api_name="ask", concurrency_limit=limit,
                      concurrency_id="answer")
    app.qa_gate = gate  # type: ignore[attr-defined]  # tests and operators can see what is in flight
    app.qa_max_bytes = max_bytes  # type: ignore[attr-defined]
    return app.queue(default_concurrency_limit=4, max_size=max(64, 4 * limit))


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           auth: tuple[str, str] | list[tuple[str, str]] | None = None, block: bool = True) -> None:
    """Serve ``app`` (with a login when ``auth`` is given); returns at once when ``block`` is False."""
    app.launch(
        server_name=host, server_port=port, share=share, auth=auth, css=CSS, head=HEAD, ssr_mode=False,
        show_error=False, quiet=True, max_file_size=getattr(app, "qa_max_bytes", None), prevent_thread_lock=not block,
    )


def serve(host: str = "127.0.0.1", port: int = 7860, share: bool = False,
          auth: tuple[str, str] | None = None, **overrides: Any) -> int:
    """Index if needed and load the models, then serve the UI until interrupted (``auth``: see
    :func:`qa.ui.access.ui_login`)."""
    get_pipeline(**overrides).warm_up()
    launch(build_app(**overrides), host, port, share, auth)
    return 0
