"""A synthetic corpus built from the seed articles, for benchmarks at sizes the seeds cannot reach.

Each generated article is a shuffle of seed sentences with names renamed (a per-article map of the
proper nouns to invented names), words paraphrased (a fixed substitution table) and numbers changed,
under a headline made the same way. The vocabulary therefore grows with the corpus, as it does in
real collections, while sentence lengths and style stay those of news text. Deterministic per seed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from qa.text import sentence_spans

PARAPHRASES = {
    "said": "stated", "killed": "slain", "strikes": "attacks", "strike": "attack", "border": "frontier",
    "militants": "fighters", "government": "administration", "statement": "communique", "country": "nation",
    "officials": "authorities", "military": "armed forces", "minister": "secretary", "people": "residents",
    "attack": "assault", "tension": "friction", "region": "area", "targeted": "hit", "launched": "carried out",
    "missiles": "rockets", "drones": "unmanned aircraft", "neighbours": "neighbors", "talks": "negotiations",
}
_SYLLABLES = "ka ri mo tan vel sar ud lin bro qe zha fen dor mir os pal uth ne gar is ven cor tal eb".split()
_PROPER = re.compile(r"(?<=[a-z,;:]\s)[A-Z][a-z]{2,}")
_NUMBER = re.compile(r"\b\d+\b")
_WORD = re.compile(r"[a-z]+")


def seed_sentences(seeds: Path) -> list[str]:
    """Every sentence of the seed articles after their headline line."""
    out = []
    for path in sorted(seeds.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        body = text.split("\n", 1)[1] if "\n" in text else text
        out += [body[s:e] for s, e in sentence_spans(body) if len(body[s:e].split()) >= 6]
    return out


def invented_name(rng: random.Random) -> str:
    """A pronounceable capitalised name that no seed uses."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def rewrite(sentence: str, names: dict[str, str], rng: random.Random) -> str:
    """``sentence`` with proper nouns renamed, some words paraphrased and numbers changed."""
    text = _PROPER.sub(lambda m: names.get(m.group(0), m.group(0)), sentence)
    text = _WORD.sub(lambda m: PARAPHRASES[m.group(0)] if m.group(0) in PARAPHRASES and rng.random() < 0.5
                     else m.group(0), text)
    return _NUMBER.sub(lambda m: str(rng.randint(2, 10 ** len(m.group(0)) - 1)) if rng.random() < 0.5
                       else m.group(0), text)


def article(sentences: list[str], rng: random.Random, length: int = 40) -> str:
    """One generated article: headline, blank line, paragraphs of two to four sentences."""
    picked = rng.sample(sentences, min(length, len(sentences)))
    proper = {w for s in picked for w in _PROPER.findall(s)}
    names = {w: invented_name(rng) for w in proper if rng.random() < 0.5}
    body = [rewrite(s, names, rng) for s in picked]
    headline = " ".join(body[0].split()[:9]).rstrip(".,;:")
    paragraphs, i = [], 0
    while i < len(body):
        n = rng.randint(2, 4)
        paragraphs.append(" ".join(body[i : i + n]))
        i += n
    return headline + "\n\n" + "\n\n".join(paragraphs) + "\n"


def write_corpus(seeds: Path, out: Path, n_files: int, seed: int = 0) -> int:
    """Write ``n_files`` generated articles into ``out``; returns the number of bytes written."""
    rng = random.Random(seed)
    sentences = seed_sentences(seeds)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(n_files):
        text = article(sentences, rng)
        (out / f"{i // 1000:03d}").mkdir(exist_ok=True)
        (out / f"{i // 1000:03d}" / f"synthetic_{i:06d}.txt").write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total
