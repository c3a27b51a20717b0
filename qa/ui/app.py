"""``qa ui``: a streaming Gradio chat over the pipeline, with sources, corpus bar and uploads."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from qa.api import get_pipeline  # noqa: E402
from qa.components.llm import backend_label  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.ingest.loader import SUFFIXES  # noqa: E402
from qa.models import Answer  # noqa: E402
from qa.ui.render import CSS, copy_text, corpus_bar, linked_answer, sources_html  # noqa: E402

SEARCHING = "_Searching the documents…_"
EXAMPLES = [
    "What was the code name of Pakistan's retaliatory operation?",
    "How many people were killed in the strikes?",
    "Who offered to mediate between Iran and Pakistan?",
]


def safe_upload_name(name: str) -> str | None:
    """A plain base name for an uploaded file, or None if it cannot be stored safely."""
    base = re.split(r"[\\/]", name)[-1].strip()
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base)
    if not base or base.startswith(".") or base in {".", ".."} or Path(base).suffix.lower() not in SUFFIXES:
        return None
    return base


def build_app(**overrides: Any) -> gr.Blocks:
    """The chat app for a pipeline configured by ``overrides``."""
    pipeline = get_pipeline(**overrides)

    def bar() -> str:
        store = pipeline.store
        return corpus_bar(len(store.indexed_files()), store.count(), store.last_indexed(), backend_label(pipeline.settings))

    def respond(message: str, chat: list, history: list, show_evidence: bool):  # type: ignore[no-untyped-def]
        chat = list(chat or [])
        chat.append({"role": "user", "content": message})
        chat.append({"role": "assistant", "content": SEARCHING})
        yield chat, gr.skip(), history, None, ""
        try:
            stream = pipeline.stream(message, history)
            text = ""
            for piece in stream:
                text += piece
                chat[-1] = {"role": "assistant", "content": text + " ▌"}
                yield chat, gr.skip(), history, None, ""
            answer = stream.answer
            assert answer is not None
            chat[-1] = {"role": "assistant", "content": linked_answer(answer)}
            history = [*history, (message, answer.text)]
            yield chat, sources_html(answer, show_evidence), history, answer, ""
        except QAError as exc:
            if chat and chat[-1]["role"] == "assistant":
                chat.pop()
            chat.append({"role": "assistant", "content": f"> ❗ {exc}"})
            yield chat, gr.skip(), history, None, message

    def toggle(answer: Answer | None, show: bool) -> str:
        return sources_html(answer, show)

    def clear():  # type: ignore[no-untyped-def]
        return [], [], None, sources_html(None), ""

    def add_documents(files: list | None, folder: str, progress=gr.Progress()):  # type: ignore[no-untyped-def]  # noqa: B008
        corpus = Path(pipeline.settings.corpus)
        corpus.mkdir(parents=True, exist_ok=True)
        notes = []
        for f in files or []:
            src = Path(getattr(f, "name", f))
            name = safe_upload_name(src.name)
            if name is None:
                notes.append(f"skipped upload {src.name!r}: unsupported name or type")
                continue
            shutil.copyfile(src, corpus / name)
        if folder and folder.strip():
            source_dir = Path(folder.strip()).expanduser()
            if not source_dir.is_dir():
                return f"❗ folder not found: {folder}", bar()
            for path in sorted(source_dir.iterdir()):
                name = safe_upload_name(path.name)
                if path.is_file() and name:
                    shutil.copyfile(path, corpus / name)
        progress(0.1, desc="indexing")
        try:
            report = pipeline.ingest()
        except QAError as exc:
            return f"❗ {exc}", bar()
        notes += [f"skipped {s.source}: {s.reason}" for s in report.skipped]
        return "\n".join([report.summary(), *notes]), bar()

    def api_ask(question: str, history_json: str) -> dict:
        """Named API endpoint: question plus JSON history in, answer with citations out."""
        try:
            history = json.loads(history_json or "[]")
            answer = pipeline.ask(question, history)
        except (QAError, json.JSONDecodeError) as exc:
            return {"error": str(exc), "text": "", "refused": True, "citations": []}
        return {"text": answer.text, "refused": answer.refused, "reason": answer.reason,
                "citations": [{"n": c.n, "source": c.source, "quote": c.quote, "start": c.start, "end": c.end}
                              for c in answer.citations]}

    with gr.Blocks(title="qa — answers with verified citations") as app:
        gr.Markdown("## qa — ask the documents\nEvery claim cites the file and the exact sentence it comes from.")
        corpus_md = gr.Markdown(bar())
        history = gr.State([])
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
                copy_box = gr.Textbox(label="Answer with citations", buttons=["copy"], visible=True, lines=3)
                gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                show_evidence = gr.Checkbox(label="Show all retrieved evidence with scores", value=False)
                sources = gr.HTML(sources_html(None), elem_id="qa-sources")
                with gr.Accordion("Add documents", open=False):
                    uploads = gr.File(file_count="multiple", file_types=sorted(SUFFIXES), label="Upload files")
                    folder = gr.Textbox(label="…or a folder path to copy from")
                    index_btn = gr.Button("Add and re-index")
                    index_status = gr.Markdown()
        outputs = [chat, sources, history, last, question]
        inputs = [question, chat, history, show_evidence]
        question.submit(respond, inputs, outputs, api_visibility="private")
        send.click(respond, inputs, outputs, api_visibility="private")
        show_evidence.change(toggle, [last, show_evidence], sources, api_visibility="private")
        clear_btn.click(clear, None, [chat, history, last, sources, copy_box], api_visibility="private")
        copy_btn.click(copy_text, last, copy_box, api_visibility="private")
        index_btn.click(add_documents, [uploads, folder], [index_status, corpus_md], api_visibility="private")
        api_q = gr.Textbox(visible=False)
        api_h = gr.Textbox(visible=False, value="[]")
        api_out = gr.JSON(visible=False)
        api_btn = gr.Button(visible=False)
        api_btn.click(api_ask, [api_q, api_h], api_out, api_name="ask")
    # several users at once: model calls are serialised by the model's lock, everything else runs freely
    return app.queue(default_concurrency_limit=4)


def serve(host: str = "127.0.0.1", port: int = 7860, share: bool = False, **overrides: Any) -> int:
    """Index if needed, then serve the UI until interrupted."""
    get_pipeline(**overrides).ensure_index()
    app = build_app(**overrides)
    user, password = os.environ.get("QA_UI_USER"), os.environ.get("QA_UI_PASSWORD")
    app.launch(
        server_name=host, server_port=port, share=share, auth=(user, password) if user and password else None,
        css=CSS, ssr_mode=False, show_error=False, quiet=True,
    )
    return 0
