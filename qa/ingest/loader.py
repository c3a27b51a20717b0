"""Find and read corpus files (.txt, .md, .html) as text, reporting the ones that cannot be used."""

from __future__ import annotations

import hashlib
import html
import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from qa.errors import QAError

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A corpus file as text. ``source`` is its path relative to the corpus dir (posix)."""

    source: str
    title: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    source: str
    reason: str


class _HTMLText(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "title", "section", "article"}
    _HEADING = {"h1": "# ", "h2": "## ", "h3": "### ", "h4": "#### ", "h5": "##### ", "h6": "###### "}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        self._stack.append(tag)
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag in self._HEADING:  # kept as a Markdown heading: sentences below it are about it
            self.parts.append(self._HEADING[tag])

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if any(t in self._SKIP for t in self._stack):
            return
        if self._stack and self._stack[-1] == "title":
            self.title += data
        self.parts.append(data)


def html_to_text(raw: str) -> tuple[str, str]:
    """Visible text of an HTML page (one block per line, headings as Markdown ``## ...``) and its <title>."""
    parser = _HTMLText()
    parser.feed(raw)
    text = re.sub(r"[ \t]+", " ", html.unescape("".join(parser.parts)))
    text = "\n".join(line.strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", parser.title.strip()


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else UTF-16 with BOM; binary is an error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="strict") if _mostly_text(data) else None
    if text is None:
        raise ValueError("not UTF-8 text")
    return text


def _mostly_text(data: bytes) -> bool:
    sample = data[:8192]
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return control <= len(sample) // 100


def title_of(text: str, fallback: str) -> str:
    """The first non-empty line (a Markdown heading's text), else ``fallback``."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


def discover(corpus: Path) -> list[Path]:
    """Candidate files under ``corpus``, sorted, without following symlinked dirs (no loops)."""
    if not corpus.exists():
        raise QAError(f"corpus folder not found: {corpus}")
    if not corpus.is_dir():
        raise QAError(f"corpus is not a folder: {corpus}")
    found: list[Path] = []
    for root, dirs, files in os.walk(corpus, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES:
                found.append(Path(root) / name)
    return found


def load(path: Path, corpus: Path) -> Document:
    """Read one file; raises ``ValueError`` with a short reason when it cannot be used."""
    source = path.relative_to(corpus).as_posix()
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"cannot resolve ({exc.__class__.__name__})") from exc
    if not real.is_relative_to(corpus.resolve()):
        raise ValueError("symlink points outside the corpus folder")
    try:
        size = real.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"too large ({size / 1e6:.0f} MB > {MAX_FILE_BYTES / 1e6:.0f} MB)")
        data = real.read_bytes()
    except PermissionError as exc:
        raise ValueError("permission denied") from exc
    except OSError as exc:
        raise ValueError(f"unreadable ({exc.strerror or exc})") from exc
    text = decode(data)
    title = ""
    if path.suffix.lower() in HTML_SUFFIXES:
        text, title = html_to_text(text)
    if not text.strip():
        raise ValueError("empty file")
    return Document(
        source=source,
        title=title or title_of(text, path.stem),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
