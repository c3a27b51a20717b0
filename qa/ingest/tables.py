"""Tables as readable text: one line per body row, each cell named by its column header.

``Code: E4; Meaning: Heavy scale build-up; What to do: Descale the kettle`` rather than
``E4 | Heavy scale build-up | Descale the kettle``: the answer pipeline quotes single lines (sentences),
so a row must say on its own what each value is; a bare row of cells loses the header once the row
is quoted, or once the chunker puts it in another chunk than the header.
"""

from __future__ import annotations

from collections.abc import Sequence


def clean_cell(text: str) -> str:
    """A cell's text on one line, runs of white space collapsed."""
    return " ".join(text.split())


def table_lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Readable lines for a table: ``Header: value; Header: value`` per body row.

    Empty cells are left out; a table without header text (or a header-only table) is written as its
    cells joined with `` | ``, one row per line.
    """
    header = [clean_cell(h) for h in header]
    body = [[clean_cell(c) for c in row] for row in rows]
    if not any(header):
        return [line for row in body if (line := " | ".join(c for c in row if c))]
    if not body:
        return [" | ".join(h for h in header if h)]
    lines = []
    for row in body:
        pairs = []
        for i, cell in enumerate(row):
            if not cell:
                continue
            name = header[i] if i < len(header) else ""
            pairs.append(f"{name}: {cell}" if name else cell)
        if pairs:
            lines.append("; ".join(pairs))
    return lines
