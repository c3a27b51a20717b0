"""Chunking: sentence-aligned, overlapping, deterministic, and never truncated by the embedder."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.components.embedding import MAX_WORD_PIECES, count_word_pieces
from qa.ingest.chunker import chunk_document, count_tokens
from qa.ingest.indexer import fits_embedder
from qa.ingest.loader import load
from qa.text import sentence_spans


def test_seed_chunks_fit_the_embedder_window_and_slice_back(seeds_dir):
    for path in sorted(seeds_dir.glob("*.txt")):
        doc = load(path, seeds_dir)
        chunks = chunk_document(doc.source, doc.title, doc.text, 160, 32, fits_embedder)
        assert chunks, path
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            assert count_word_pieces(c.text) <= MAX_WORD_PIECES, c.id
            assert c.id == f"{doc.source}:{c.start}"
        # overlap: consecutive chunks share text or touch; together they cover every sentence
        for a, b in zip(chunks, chunks[1:], strict=False):
            assert b.start <= a.end + 2
        covered = {s for c in chunks for s in range(c.start, c.end)}
        for s, e in sentence_spans(doc.text):
            assert s in covered and e - 1 in covered


def test_word_piece_heavy_text_is_split_until_it_fits():
    # numbers and rare names explode into many word pieces per tiktoken token
    text = " ".join(f"Xq{i}zv-{i * 7919}k" for i in range(400)) + "."
    chunks = chunk_document("x.txt", "x", text, 160, 32, fits_embedder)
    assert len(chunks) > 1
    assert all(count_word_pieces(c.text) <= MAX_WORD_PIECES for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_chunk_ids_are_deterministic(seeds_dir):
    doc = load(next(seeds_dir.glob("*.txt")), seeds_dir)
    first = chunk_document(doc.source, doc.title, doc.text)
    again = chunk_document(doc.source, doc.title, doc.text)
    assert [c.id for c in first] == [c.id for c in again]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab cd.EF?\n’é1")), min_size=0, max_size=600),
       st.integers(min_value=8, max_value=80))
def test_chunk_offsets_always_slice_back(text, max_tokens):
    chunks = chunk_document("p.txt", "t", text, max_tokens, max_tokens // 4)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.strip()
        assert count_tokens(c.text) <= max_tokens or len(sentence_spans(c.text)) == 1
