"""Markdown to readable text with markdown-it-py (CommonMark plus GFM tables and strikethrough).

What a reader of the rendered page sees, as plain lines: headings stay Markdown ``#`` lines (sections
are found from them), a paragraph is one line, list items are lines of their own (``1. item`` in an
ordered list; a bullet is markup and would reach quoted answers), tables one line per row
(:mod:`qa.ingest.tables`), fenced and indented code line by line. Links keep their visible text;
images (badges included, alt text too), link targets, reference definitions, emphasis marks and HTML
tags never reach the text; raw HTML blocks are rendered to their visible text (:mod:`qa.ingest.html_text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from qa.ingest.html_text import html_lines, join_lines
from qa.ingest.tables import table_lines


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def inline_text(children: list[Token] | None) -> str:
    """The visible text of an inline token's children, on one line unless it has hard breaks."""
    parts: list[str] = []
    for tok in children or []:
        if tok.type in ("text", "text_special", "code_inline"):
            parts.append(tok.content)
        elif tok.type == "softbreak":
            parts.append(" ")
        elif tok.type == "hardbreak":
            parts.append("\n")
        elif tok.type == "html_inline" and tok.content.lower().startswith("<br"):
            parts.append("\n")
        # images (with their alt text), link targets, emphasis marks and inline HTML tags are dropped
    return "\n".join(" ".join(line.split()) for line in "".join(parts).split("\n")).strip()


@dataclass
class _List:
    ordered: bool
    depth: int


@dataclass
class _TableState:
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row: list[str] = field(default_factory=list)
    in_head: bool = False


class _Renderer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lists: list[_List] = []
        self.prefix = ""  # what the next line starts with: a heading's #s or a list item's marker
        self.table: _TableState | None = None

    def gap(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def indent(self) -> str:
        return "  " * len(self.lists)

    def emit(self, text: str) -> None:
        if not text:
            return
        first, *rest = text.split("\n")
        self.lines.append(self.prefix + first)
        self.lines.extend(self.indent() + line for line in rest)
        self.prefix = self.indent() if self.lists else ""

    def render(self, tokens: list[Token]) -> str:
        for tok in tokens:
            self.token(tok)
        return join_lines(self.lines)

    def token(self, tok: Token) -> None:
        kind = tok.type
        if kind == "heading_open":
            self.prefix = "#" * int(tok.tag[1]) + " "
        elif kind == "heading_close":
            self.prefix = self.indent() if self.lists else ""
            self.gap()
        elif kind == "inline":
            text = inline_text(tok.children)
            if self.table is not None:
                self.table.row.append(text)
            else:
                self.emit(text)
        elif kind == "paragraph_close" and not tok.hidden:
            self.gap()
        elif kind in ("bullet_list_open", "ordered_list_open"):
            self.lists.append(_List(kind == "ordered_list_open", len(self.lists)))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
            self.prefix = self.indent() if self.lists else ""
            self.gap()
        elif kind == "list_item_open":
            marker = f"{tok.info}{tok.markup} " if self.lists and self.lists[-1].ordered else ""
            self.prefix = "  " * (len(self.lists) - 1) + marker
        elif kind == "list_item_close":
            self.prefix = self.indent() if self.lists else ""
        elif kind in ("fence", "code_block"):
            self.gap()
            code = tok.content.rstrip("\n").split("\n")
            self.lines.extend(self.indent() + line.rstrip() for line in code)
            self.gap()
        elif kind == "html_block":
            lines, _ = html_lines(tok.content)
            for line in lines:
                if line:
                    self.emit(line)
                else:
                    self.gap()
        elif kind in ("hr", "blockquote_close"):
            self.gap()
        elif kind == "table_open":
            self.table = _TableState()
        elif kind == "thead_open" and self.table is not None:
            self.table.in_head = True
        elif kind == "thead_close" and self.table is not None:
            self.table.in_head = False
        elif kind == "tr_close" and self.table is not None:
            if self.table.in_head:
                self.table.header = self.table.row
            else:
                self.table.rows.append(self.table.row)
            self.table.row = []
        elif kind == "table_close" and self.table is not None:
            table, self.table = self.table, None
            self.gap()
            self.lines.extend(table_lines(table.header, table.rows))
            self.gap()


def markdown_to_text(source: str) -> str:
    """Readable text of a Markdown document (see the module docstring), ending in a newline."""
    return _Renderer().render(_parser().parse(source))
