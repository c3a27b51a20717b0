"""Find corpus files and read each as the text that is indexed, reporting the ones that cannot be used.

Plain text is indexed as it is. Markdown, HTML, PDF and Word files are rendered to readable text first
(:mod:`qa.ingest.markdown_text`, :mod:`qa.ingest.html_text`, :mod:`qa.ingest.pdf_text`,
:mod:`qa.ingest.docx_text`); every chunk, passage and citation offset is into ``load(path, corpus).text``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.ingest.html_text import html_to_text

TEXT_SUFFIXES = {".txt"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES
PAGED_SUFFIXES = PDF_SUFFIXES  # formats whose text has a form feed between pages
MAX_FILE_BYTES = 20 * 1024 * 1024  # text formats
MAX_PACKAGE_BYTES = 100 * 1024 * 1024  # PDF and DOCX (images make them large)


@dataclass(frozen=True)
class Document:
    """A corpus file as text. ``source`` is its path relative to the corpus dir (posix)."""

    source: str
    title: str
    text: str
    sha256: str
    paged: bool = False  # a form feed separates pages in ``text`` (PDF)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    source: str
    reason: str


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
    suffix = path.suffix.lower()
    limit = MAX_PACKAGE_BYTES if suffix in PDF_SUFFIXES | DOCX_SUFFIXES else MAX_FILE_BYTES
    try:
        size = real.stat().st_size
        if size > limit:
            raise ValueError(f"too large ({size / 1e6:.0f} MB > {limit / 1e6:.0f} MB)")
        data = real.read_bytes()
    except PermissionError as exc:
        raise ValueError("permission denied") from exc
    except OSError as exc:
        raise ValueError(f"unreadable ({exc.strerror or exc})") from exc
    if not data.strip():
        raise ValueError("empty file")
    text, title = render(data, suffix)
    if not text.strip():
        raise ValueError("no readable text (empty once rendered)")
    return Document(
        source=source,
        title=title or title_of(text, path.stem),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        paged=suffix in PAGED_SUFFIXES,
    )


def render(data: bytes, suffix: str) -> tuple[str, str]:
    """The text to index of a file's bytes by its format (lower-case ``suffix``), and a title if it has one."""
    if suffix in PDF_SUFFIXES:
        from qa.ingest.pdf_text import pdf_text

        return pdf_text(data)
    if suffix in DOCX_SUFFIXES:
        from qa.ingest.docx_text import docx_text

        return docx_text(data)
    text = decode(data)
    if suffix in HTML_SUFFIXES:
        return html_to_text(text)
    if suffix in MARKDOWN_SUFFIXES:
        from qa.ingest.markdown_text import markdown_to_text

        return markdown_to_text(text), ""
    return text, ""
