"""HTML to readable text with the standard library's parser.

Only what a reader sees is kept: one block per line, headings as Markdown ``#`` lines (so section
detection works on them), list items on lines of their own (numbered in an ordered list; a bullet
is markup and would reach quoted answers), tables as one line per row
(:mod:`qa.ingest.tables`), ``<pre>`` blocks line by line with their indentation. Tags, attributes
(link targets, image sources and alt text), scripts, styles and comments are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from qa.ingest.tables import table_lines

_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "select", "object", "iframe", "canvas"})
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "html", "main", "nav", "ol", "p",
    "section", "summary", "ul", "caption", "legend",
})
_GAP_AFTER = frozenset({"p", "div", "section", "article", "blockquote", "ul", "ol", "dl", "figure", "details", "header",
                        "footer", "main", "nav", "aside", "center"})
_HEADING = {f"h{n}": "#" * n + " " for n in range(1, 7)}
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@dataclass
class _Table:
    header: list[str] | None = None
    rows: list[list[str]] = field(default_factory=list)
    row: list[str] | None = None
    row_is_header: bool = True
    cell: list[str] | None = None
    in_head: bool = False

    def close_cell(self) -> None:
        if self.cell is not None:
            if self.row is None:
                self.row = []
            self.row.append("".join(self.cell))
            self.cell = None

    def close_row(self) -> None:
        self.close_cell()
        if self.row:
            if self.header is None and not self.rows and (self.row_is_header or self.in_head):
                self.header = self.row
            else:
                self.rows.append(self.row)
        self.row, self.row_is_header = None, True


class _Renderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.title = ""
        self._buf: list[str] = []
        self._prefix = ""
        self._skip = 0
        self._pre: list[str] | None = None
        self._pre_depth = 0
        self._in_title = False
        self._lists: list[int] = []  # per open list: the next item number (0 for a bullet list)
        self._tables: list[_Table] = []

    # ---- output ---------------------------------------------------------------------------
    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        self._buf.clear()
        if text:
            self._emit([self._prefix + text])
            self._prefix = ""

    def _emit(self, lines: list[str]) -> None:
        table = self._tables[-1] if self._tables else None
        if table is not None and table.cell is not None:  # a block inside a table cell stays in the cell
            table.cell.append(" " + " ".join(lines) + " ")
        else:
            self.lines.extend(lines)

    def _gap(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    # ---- parser callbacks -----------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        if tag in _SKIP:
            self._skip += 1
        if self._skip:
            return
        if self._pre is not None:
            if tag == "br":
                self._pre.append("\n")
            if tag == "pre":
                self._pre_depth += 1
            return
        table = self._tables[-1] if self._tables else None
        if tag == "title":
            self._in_title = True
        elif tag == "pre":
            self._flush()
            self._pre, self._pre_depth = [], 1
        elif tag == "table":
            self._flush()
            self._tables.append(_Table())
        elif table is not None and tag in ("thead", "tbody", "tfoot"):
            table.close_row()
            table.in_head = tag == "thead"
        elif table is not None and tag == "tr":
            table.close_row()
            table.row = []
        elif table is not None and tag in ("td", "th"):
            table.close_cell()
            if table.row is None:
                table.row = []
            table.row_is_header = table.row_is_header and tag == "th"
            table.cell = []
        elif tag == "br":
            if table is not None and table.cell is not None:
                table.cell.append(" ")
            else:
                self._flush()
        elif tag in _HEADING:
            self._flush()
            self._prefix = _HEADING[tag]
        elif tag in ("ul", "ol"):
            self._flush()
            start = dict(attrs).get("start") or "1"
            self._lists.append(int(start) if tag == "ol" and start.strip().isdigit() else 0)
        elif tag == "li":
            self._flush()
            self._prefix = "  " * max(0, len(self._lists) - 1)
            if self._lists and self._lists[-1]:
                self._prefix += f"{self._lists[-1]}. "
                self._lists[-1] += 1
        elif tag == "hr":
            self._flush()
            self._gap()
        elif tag in _BLOCK:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if self._pre is not None:
            if tag == "pre":
                self._pre_depth -= 1
                if self._pre_depth == 0:
                    self._end_pre()
            return
        table = self._tables[-1] if self._tables else None
        if tag == "title":
            self._in_title = False
            self._flush()
            self._gap()
        elif tag == "table" and table is not None:
            table.close_row()
            self._tables.pop()
            self._flush()
            self._emit(table_lines(table.header or [], table.rows))
            self._gap()
        elif table is not None and tag in ("td", "th"):
            table.close_cell()
        elif table is not None and tag == "tr":
            table.close_row()
        elif table is not None and tag in ("thead", "tbody", "tfoot"):
            table.close_row()
            table.in_head = False
        elif tag in _HEADING or tag == "li":
            self._flush()
            self._prefix = ""
            if tag in _HEADING:
                self._gap()
        elif tag in ("ul", "ol"):
            self._flush()
            if self._lists:
                self._lists.pop()
            self._prefix = ""
            self._gap()
        elif tag in _BLOCK:
            self._flush()
            if tag in _GAP_AFTER:
                self._gap()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre is not None:
            self._pre.append(data)
            return
        if self._in_title:
            self.title += data
        table = self._tables[-1] if self._tables else None
        if table is not None and table.cell is not None:
            table.cell.append(data)
        elif table is None or data.strip():
            self._buf.append(data)

    def _end_pre(self) -> None:
        raw = "".join(self._pre or [])
        self._pre = None
        lines = [line.rstrip() for line in raw.removeprefix("\n").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        self._gap()
        self._emit(lines)
        self._gap()

    def finish(self) -> list[str]:
        """Close what the page left open and return the lines."""
        self.close()
        if self._pre is not None:
            self._end_pre()
        while self._tables:
            table = self._tables.pop()
            table.close_row()
            self._emit(table_lines(table.header or [], table.rows))
        self._flush()
        return self.lines


def html_lines(raw: str) -> tuple[list[str], str]:
    """The visible lines of an HTML document or fragment ("" marks a paragraph gap) and its <title>."""
    renderer = _Renderer()
    renderer.feed(raw)
    lines = renderer.finish()
    return lines, " ".join(renderer.title.split())


def join_lines(lines: list[str]) -> str:
    """Lines as text: at most one blank line in a row, none at the ends, a final newline."""
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def html_to_text(raw: str) -> tuple[str, str]:
    """Visible text of an HTML page (one block per line, headings as Markdown ``## ...``) and its <title>."""
    lines, title = html_lines(raw)
    return join_lines(lines), title
