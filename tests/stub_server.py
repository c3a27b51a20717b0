"""A scripted HTTP server on loopback, standing in for an LLM server so that failures happen on cue."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_SECONDS = 20
# reply(path, json_body, n) -> (status, content type, body bytes), or None to hang past any client timeout
Reply = Callable[[str, dict, int], "tuple[int, str, bytes] | None"]


@contextmanager
def stub_server(reply: Reply) -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    """Serve ``reply`` on a free port; yields the base URL and the list of (path, body) requests received."""
    requests: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            requests.append((self.path, body))
            out = reply(self.path, body, len(requests))
            if out is None:
                time.sleep(HANG_SECONDS)
                return
            status, kind, data = out
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = _answer  # noqa: N815 (http.server API)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def cite_code_name(prompt: str) -> str:
    """Answer like a model would: the evidence passage naming the operation, cited by its number."""
    n = next(m.group(1) for m in re.finditer(r"^\[(\d+)\] (.*)$", prompt, re.M) if "Marg Bar Sarmachar" in m.group(2))
    return f'The operation was code-named "Marg Bar Sarmachar" [{n}].'
