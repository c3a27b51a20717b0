"""A Word .docx file as readable text with python-docx.

The body in document order: one line per paragraph, ``Heading N`` / ``Title`` styles as Markdown ``#``
lines (sections are found from them), list paragraphs as plain lines (Word numbers them
when it lays the file out; a bullet would be markup), tables one line per row
(:mod:`qa.ingest.tables`, the first row as header). Headers, footers, comments and footnotes are not read.
A .docx has no fixed pages (Word lays them out when it displays the file), so its citations carry none.
"""

from __future__ import annotations

import io
import re
import zipfile

from qa.ingest.html_text import join_lines
from qa.ingest.tables import table_lines

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: a password-protected .docx or an old .doc
_HEADING_STYLE = re.compile(r"heading (\d)$", re.IGNORECASE)


def _paragraph_line(paragraph) -> str:  # type: ignore[no-untyped-def]
    """One paragraph as a line, with a ``#`` prefix for headings."""
    text = " ".join(paragraph.text.split())
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style.lower() == "title":
        return "# " + text
    if m := _HEADING_STYLE.match(style):
        return "#" * min(6, int(m.group(1))) + " " + text
    return text


def _table_rows(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The cells' text of each row, a cell merged across columns counted once."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        rows.append(cells)
    return rows


def docx_text(data: bytes) -> tuple[str, str]:
    """The indexed text of a .docx file and its title (core properties); raises ``ValueError``."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    if data.startswith(_OLE_MAGIC):
        raise ValueError("encrypted (password-protected) or old-format Word file; save it as an unprotected .docx")
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = _table_rows(block)
                lines += ["", *table_lines(rows[0] if rows else [], rows[1:]), ""]
            else:
                line = _paragraph_line(block)
                lines += [line, ""] if line else []
        title = " ".join((document.core_properties.title or "").split())
    except (PackageNotFoundError, zipfile.BadZipFile) as exc:
        raise ValueError("unreadable DOCX (not a Word package)") from exc
    except Exception as exc:  # damaged XML or relationships inside the package
        raise ValueError(f"unreadable DOCX ({exc.__class__.__name__})") from exc
    return join_lines(lines), title[:200]
