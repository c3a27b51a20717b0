"""A PDF's text layer as readable text with pdfminer.six, pages separated by a form feed.

pdfminer's layout analysis groups a page's text lines into boxes (paragraphs, headings, captions); each
box becomes one line of text (a short box in a clearly larger font than the body text a ``## `` heading line,
so sections are found as in Markdown), because the sentence splitter reads a line as a paragraph
(:func:`qa.text.sentence_spans`) and a sentence wrapped over two lines would otherwise be cut in two.
Pages are joined by ``PAGE_BREAK`` (a form feed on a line of its own), so the page of any offset is
1 plus the number of form feeds before it (:func:`page_at`).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections import Counter
from collections.abc import Iterator

PAGE_BREAK = "\n\f\n"
HEADING_SCALE = 1.2  # a box whose characters are this much larger than the body text's is a heading ...
HEADING_WORDS = 15  # ... when it is this short


def page_at(text: str, offset: int) -> int:
    """The 1-based page of ``text[offset]`` in a paged document's text."""
    return 1 + text.count("\f", 0, offset)


def _box_text(lines: list[str]) -> str:
    """A box's lines as one line; a line ending in a hyphen after a letter runs on without a space."""
    out = ""
    for raw in lines:
        line = " ".join(raw.replace("\f", " ").split())
        if not line:
            continue
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].islower():
            out += line
        else:
            out = f"{out} {line}" if out else line
    return out


def _box_size(box) -> float:  # type: ignore[no-untyped-def]
    """The mean font size of a text box's characters (0 when it has none)."""
    from pdfminer.layout import LTChar

    sizes = [ch.size for line in box for ch in line if isinstance(ch, LTChar)]
    return sum(sizes) / len(sizes) if sizes else 0.0


def _body_size(pages: list[list[tuple[str, float]]]) -> float:
    """The font size most of the document's characters are set in."""
    weight: Counter[float] = Counter()
    for boxes in pages:
        for text, size in boxes:
            weight[round(size * 2) / 2] += len(text)
    return weight.most_common(1)[0][0] if weight else 0.0


def _page_text(boxes: list[tuple[str, float]], body: float) -> str:
    """A page's boxes one per line; a short box set clearly larger than the body text is a ``##`` heading."""
    lines = []
    for text, size in boxes:
        heading = body > 0 and size >= HEADING_SCALE * body and len(text.split()) <= HEADING_WORDS
        lines.append(f"## {text}" if heading else text)
    return "\n".join(lines)


@contextlib.contextmanager
def _quiet_pdfminer() -> Iterator[None]:
    """pdfminer logs a warning for each oddity of a damaged file; the loader reports one reason per file instead."""
    log = logging.getLogger("pdfminer")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page (one line per text box); raises ``ValueError`` with a short reason."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if b"%PDF-" not in data[:1024]:
        raise ValueError("not a PDF file (no %PDF header)")
    pages: list[list[tuple[str, float]]] = []
    try:
        with _quiet_pdfminer():
            for layout in extract_pages(io.BytesIO(data), laparams=LAParams()):  # one page's layout at a time
                boxes = [(_box_text([line.get_text() for line in box]), _box_size(box))
                         for box in layout if isinstance(box, LTTextContainer)]
                pages.append([(text, size) for text, size in boxes if text])
    except PDFPasswordIncorrect as exc:
        raise ValueError("encrypted PDF (needs a password)") from exc
    except PDFEncryptionError as exc:
        raise ValueError(f"encrypted PDF ({exc or 'unsupported encryption'})") from exc
    except Exception as exc:  # pdfminer raises many types (PSEOF, PDFSyntaxError, KeyError, ...) for a damaged file
        raise ValueError(f"unreadable PDF ({exc.__class__.__name__})") from exc
    if not pages:
        raise ValueError("unreadable PDF (no pages)")
    if not any(pages):
        raise ValueError(f"no text layer in {len(pages)} page(s) (a scanned PDF? run OCR on it first); not indexed")
    body = _body_size(pages)
    return [_page_text(boxes, body) for boxes in pages]


def pdf_text(data: bytes) -> tuple[str, str]:
    """The indexed text of a PDF (pages joined by ``PAGE_BREAK``) and its title from the metadata, if any."""
    pages = pdf_pages(data)
    return PAGE_BREAK.join(pages).strip("\n") + "\n", _title(data)


def _title(data: bytes) -> str:
    """The document information dictionary's Title, or ""."""
    try:
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfparser import PDFParser
        from pdfminer.pdftypes import resolve1

        info = PDFDocument(PDFParser(io.BytesIO(data))).info
        raw = resolve1(info[0].get("Title")) if info else None
    except Exception:  # the title is optional; the text was already read
        return ""
    if isinstance(raw, bytes):
        from pdfminer.utils import decode_text

        raw = decode_text(raw)
    return " ".join(str(raw).split())[:200] if raw else ""
