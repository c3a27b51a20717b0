"""The ``qa`` command: ingest, ask, eval, ui. Errors print one line and exit 2."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", help="Chroma store path (QA_STORE)")
    p.add_argument("--llm", dest="llm_preset", choices=["qwen1.5b", "smollm2"], help="model preset (QA_LLM_PRESET)")
    p.add_argument("--backend", dest="llm", choices=["llamacpp", "openai", "ollama"], help="LLM backend (QA_LLM)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Offline question answering with verified citations.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index a folder of documents (incremental)")
    p.add_argument("corpus", nargs="?", help="folder to index (default: QA_CORPUS or seeds/)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it again")
    p.add_argument("--store", help="Chroma store path (QA_STORE)")

    p = sub.add_parser("ask", help="answer a question from the indexed documents")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.add_argument("--k", type=int, help="chunks to retrieve")
    _settings_args(p)

    sub.add_parser("eval", help="score the system on the QA set (see `qa eval --help`)", add_help=False)

    p = sub.add_parser("ui", help="serve the Gradio chat UI")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", choices=["on", "off"], default="off")
    p.add_argument("--no-auth", action="store_true",
                   help="serve beyond loopback without a login (otherwise QA_UI_USER and QA_UI_PASSWORD are required)")
    _settings_args(p)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    keys = ("store", "llm_preset", "llm", "k")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _ingest(args: argparse.Namespace) -> int:
    import shutil

    from qa.api import get_pipeline

    pipeline = get_pipeline(**_overrides(args))
    if args.corpus:
        pipeline = get_pipeline(pipeline.settings, corpus=args.corpus)
    if args.rebuild:
        s = pipeline.settings
        if s.chroma_url:
            pipeline.store.client.delete_collection(s.collection)
            pipeline.store.client.delete_collection(s.collection + "_files")
        elif s.store.exists():
            shutil.rmtree(s.store)
        from qa import api

        api._PIPELINES.pop(s, None)
        pipeline = get_pipeline(s)
    report = pipeline.ingest(progress=True)
    for skipped in report.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}", file=sys.stderr)
    print(report.summary())
    return 0


def _ask(args: argparse.Namespace) -> int:
    from qa.api import get_pipeline

    answer = get_pipeline(**_overrides(args)).ask(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    if answer.citations:
        print()
        for c in answer.citations:
            page = f" p. {c.page}" if c.page is not None else ""
            print(f'[{c.n}] {c.source}{page} — "{c.quote}"')
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qa`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from qa.errors import QAError

    if argv[:1] == ["eval"]:
        from qa.evaluation.cli import main as eval_main

        try:
            return eval_main(argv[1:])
        except QAError as exc:
            print(f"qa: error: {exc}", file=sys.stderr)
            return 2
    args = _parser().parse_args(argv)
    try:
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "ask":
            return _ask(args)
        if args.command == "ui":
            from qa.ui.access import ui_login

            auth = ui_login(args.host, args.share == "on", args.no_auth)  # before anything is loaded or bound
            from qa.ui.app import serve

            return serve(args.host, args.port, args.share == "on", auth, **_overrides(args))
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
