"""Adding and removing corpus files from the UI.

Uploads are checked by content (not only by name) and size; server-side folders are read only under
roots the operator configured (``QA_IMPORT_ROOTS``), checked after resolving symlinks; only indexed
files inside the corpus folder can be removed. Every refused file gets one line saying why.
"""

from __future__ import annotations

import io
import os
import re
import stat
import uuid
import zipfile
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from qa.ingest.loader import DOCX_SUFFIXES, HTML_SUFFIXES, MARKDOWN_SUFFIXES, PDF_SUFFIXES, SUFFIXES, TEXT_SUFFIXES


def safe_name(name: str) -> str | None:
    """A plain base name (no folders, no leading dot, only safe characters), or None."""
    base = re.split(r"[\\/]", name)[-1].strip()
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base)
    if not base or base.startswith("."):
        return None
    return base


def safe_upload_name(name: str) -> str | None:
    """A plain base name of a supported type for an uploaded file, or None if it cannot be stored safely."""
    base = safe_name(name)
    return base if base and Path(base).suffix.lower() in SUFFIXES else None


def _is_text(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data.decode("utf-16")
        except UnicodeDecodeError:
            return False
        return True
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


class _TagCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        self.tags += 1


def _is_html(data: bytes) -> bool:
    if not _is_text(data):
        return False
    text = data.decode("utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("utf-8-sig")
    parser = _TagCounter()
    parser.feed(text)
    return parser.tags > 0


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "word/document.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def content_problem(data: bytes, suffix: str) -> str | None:
    """Why ``data`` is not a file of type ``suffix`` (judged by content), or None if it is."""
    suffix = suffix.lower()
    if not data.strip():
        return "empty file"
    if suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES:
        return None if _is_text(data) else "not UTF-8 or UTF-16 text (save it as UTF-8)"
    if suffix in HTML_SUFFIXES:
        return None if _is_html(data) else "not an HTML page (no tags, or not UTF-8/UTF-16 text)"
    if suffix in PDF_SUFFIXES:
        return None if data.startswith(b"%PDF-") else "not a PDF (no %PDF- header)"
    if suffix in DOCX_SUFFIXES:
        return None if _is_docx(data) else "not a Word document (no word/document.xml inside)"
    return "unsupported type"


def _read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (ValueError with the reason otherwise)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ValueError(f"unreadable ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"too large ({info.st_size / 2**20:.1f} MiB > {max_bytes / 2**20:g} MiB)")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"too large (> {max_bytes / 2**20:g} MiB)")
    return data


def add_file(src: Path, name: str, corpus: Path, max_bytes: int) -> str:
    """Copy ``src`` into ``corpus`` as ``name`` after the checks; one line saying what happened."""
    base = safe_name(name)
    if base is None:
        return f"refused {name!r}: not a usable file name"
    suffix = Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        return f"refused {base}: unsupported type {suffix or '(none)'} (accepted: {' '.join(sorted(SUFFIXES))})"
    try:
        data = _read_regular(src, max_bytes)
    except ValueError as exc:
        return f"refused {base}: {exc}"
    problem = content_problem(data, suffix)
    if problem:
        return f"refused {base}: {problem}"
    corpus.mkdir(parents=True, exist_ok=True)
    dest = corpus / base
    verb = "added"
    if dest.is_symlink() or (dest.exists() and not dest.is_file()):
        return f"refused {base}: the corpus holds something other than a plain file under that name"
    if dest.exists():
        if dest.read_bytes() == data:
            return f"{base} is already in the corpus with the same content"
        verb = "replaced"
    tmp = corpus / f".{base}.{uuid.uuid4().hex}.part"  # hidden: never indexed, even if left behind
    try:
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return f"refused {base}: cannot write to the corpus ({exc.strerror or exc})"
    return f"{verb} {base}" + (" (the earlier file of that name is gone)" if verb == "replaced" else "")


def import_roots(spec: str) -> list[Path]:
    """The existing folders named in ``spec`` (``os.pathsep``-separated), symlinks resolved."""
    roots = []
    for part in spec.split(os.pathsep):
        if not part.strip():
            continue
        try:
            root = Path(part.strip()).expanduser().resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if root.is_dir():
            roots.append(root)
    return roots


def _inside(path: Path, roots: list[Path]) -> Path | None:
    return next((r for r in roots if path.is_relative_to(r)), None)


def import_folder(folder: str, roots: list[Path], corpus: Path, max_bytes: int) -> list[str]:
    """Copy the supported files directly inside ``folder`` into ``corpus``; one line per file or refusal.

    ``folder`` must lie inside one of ``roots`` after symlinks are resolved (a relative path is taken
    relative to the roots), and so must each file in it.
    """
    folder = folder.strip()
    if not roots:
        return [f"refused folder {folder!r}: importing folders is off (the operator can allow folders with QA_IMPORT_ROOTS)"]
    asked = Path(folder).expanduser()
    candidates = [asked] if asked.is_absolute() else [r / asked for r in roots]
    allowed = ", ".join(str(r) for r in roots)
    refusal = f"refused folder {folder!r}: not inside an allowed folder ({allowed})"
    for candidate in candidates:
        try:  # judged on where the path leads, before looking whether it exists (no probing outside the roots)
            loose = candidate.resolve(strict=False)
        except (OSError, RuntimeError):
            continue
        if _inside(loose, roots) is None:
            continue
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            refusal = f"refused folder {folder!r}: not found"
            continue
        root = _inside(real, roots)
        if root is None:
            continue
        if not real.is_dir():
            return [f"refused {folder!r}: not a folder"]
        return _import_files(real, root, corpus, max_bytes)
    return [refusal]


def _import_files(folder: Path, root: Path, corpus: Path, max_bytes: int) -> list[str]:
    notes = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            notes.append(f"skipped {entry.name}: hidden file")
            continue
        try:
            real = entry.resolve(strict=True)
        except (OSError, RuntimeError):
            notes.append(f"refused {entry.name}: broken link")
            continue
        if not real.is_relative_to(root):
            notes.append(f"refused {entry.name}: it points outside the allowed folder {root}")
            continue
        if real.is_dir():
            notes.append(f"skipped folder {entry.name}: only files directly inside the chosen folder are copied")
            continue
        notes.append(add_file(real, entry.name, corpus, max_bytes))
    return notes or [f"nothing to copy: {folder} holds no files"]


def remove_file(source: str, indexed: set[str], corpus: Path) -> str:
    """Delete one indexed file from ``corpus`` (never anything outside it; a symlink itself, not its target)."""
    rel = PurePosixPath(source)
    if source not in indexed or rel.is_absolute() or ".." in rel.parts:
        return f"refused {source!r}: not an indexed file"
    path = corpus / Path(*rel.parts)
    try:
        inside = path.parent.resolve(strict=True).is_relative_to(corpus.resolve(strict=True))
    except (OSError, RuntimeError):
        return f"{source} was already gone from the corpus"
    if not inside:
        return f"refused {source}: it is not inside the corpus folder"
    if not (path.is_file() or path.is_symlink()):
        return f"{source} was already gone from the corpus"
    try:
        path.unlink()
    except OSError as exc:
        return f"refused {source}: cannot delete it ({exc.strerror or exc})"
    return f"removed {source}"
