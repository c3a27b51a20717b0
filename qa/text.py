"""Text units for matching, from maintained libraries: sentences with offsets (pysbd), Snowball stems
(PyStemmer), stop words (bm25s's English list), number words as digits (text2num), edit distance
(rapidfuzz). Nothing here knows a genre or a corpus."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pysbd
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS
from rapidfuzz.distance import OSA
from text_to_num import alpha2digit

TOKENIZER_VERSION = "3"  # raise when terms() changes: persisted lexical indexes are rebuilt
# the list's contraction stems ("don", "won" of "don't", "won't") are left out: words keep their apostrophe
# here, so such a stem only ever stands for itself ("who won?")
STOPWORDS = frozenset(w for w in STOPWORDS_EN_PLUS if f"{w}'t" not in STOPWORDS_EN_PLUS)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SEGMENTER = pysbd.Segmenter(language="en", clean=False)
_STEMMER = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower-case, accents stripped, quotes and dashes unified: the form words are matched in."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")


@lru_cache(maxsize=4096)
def _line_sentences(line: str) -> tuple[tuple[int, int], ...]:
    """pysbd's sentences of one line, located in order (its own char spans find a repeated sentence's first copy);
    a Markdown heading is one unit."""
    if line.lstrip().startswith("#"):
        return ((0, len(line)),)
    spans, at = [], 0
    for sent in _SEGMENTER.segment(line):
        start = line.find(sent, at)
        if start < 0:  # pysbd altered the text: keep what is left as one piece
            spans.append((at, len(line)))
            break
        spans.append((start, start + len(sent)))
        at = start + len(sent)
    return tuple(spans)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans ``(s, e)`` of the sentences of ``text[start:end]``, trimmed of space. A line (or a page,
    split by form feeds) is never joined to the next: a heading, list item or table row is its own unit."""
    end = len(text) if end is None else end
    out = []
    for line in re.finditer(r"[^\n\f]+", text[start:end]):
        base = start + line.start()
        for a, b in _line_sentences(line.group(0)):
            a, b = base + a, base + b
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a:
                out.append((a, b))
    return out


def words(text: str) -> list[str]:
    """Folded word tokens, possessive 's removed."""
    return [w.removesuffix("'s") for w in _WORD.findall(fold(text))]


def content_words(text: str) -> list[str]:
    """Word tokens that are not stop words."""
    return [w for w in words(text) if w not in STOPWORDS]


def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a folded word."""
    return _STEMMER.stemWord(word)


def terms(text: str) -> list[str]:
    """Stemmed content words: the unit of BM25 and of lexical support."""
    return _STEMMER.stemWords(content_words(text))


def numbers(text: str) -> set[str]:
    """The figures ``text`` gives, as digit strings ("nine" and "9" alike; "1,200" is "1200")."""
    digits = alpha2digit(text, "en") if re.search(r"[A-Za-z]", text) else text
    return {n.replace(",", "") for n in _NUMBER.findall(digits)}


def names(text: str) -> set[str]:
    """Folded words written with a capital: the names a claim must find in its quote."""
    return set(words(" ".join(w for w in _WORD.findall(text) if w[0].isupper()))) - STOPWORDS


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Edit distance counting a swap of neighbours as one edit; ``limit + 1`` once it exceeds ``limit``."""
    return OSA.distance(a, b, score_cutoff=limit)
