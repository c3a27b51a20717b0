"""Load the QA set and gate it: every required fact must occur in one of its gold files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import QAError

TYPES = ("single", "multi_source", "conflict", "paraphrase", "unanswerable", "multi_turn")
SPLITS = ("dev", "heldout")
UNSPLIT = "unsplit"  # the label of items without a ``split`` (the old sets)
SPLIT_CHOICES = ("all", *SPLITS)


@dataclass(frozen=True)
class Item:
    """One QA item."""

    id: str
    type: str
    question: str
    reference: str
    facts: list[str]
    gold: list[str]
    answerable: bool
    history: list[tuple[str, str]] = field(default_factory=list)
    split: str | None = None

    @property
    def split_label(self) -> str:
        """``dev``, ``heldout`` or ``unsplit``."""
        return self.split or UNSPLIT


def select_split(items: list[Item], split: str) -> list[Item]:
    """The items of ``split`` (``all``: every item, split or not; ``dev``/``heldout``: only items marked so)."""
    if split not in SPLIT_CHOICES:
        raise QAError(f"unknown split {split!r} (choose {', '.join(SPLIT_CHOICES)})")
    return items if split == "all" else [i for i in items if i.split == split]


def fact_matches(fact: str, text: str) -> bool:
    """A fact is a case-insensitive substring, or a regex when it starts with ``re:``."""
    if fact.startswith("re:"):
        return re.search(fact[3:], text, re.IGNORECASE) is not None
    return fact.lower() in text.lower()


def load_items(path: Path) -> list[Item]:
    """Parse and validate the JSONL QA set."""
    if not path.is_file():
        raise QAError(f"QA set not found: {path}")
    items: list[Item] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            item = Item(
                id=str(d["id"]), type=str(d["type"]), question=str(d["question"]), reference=str(d["reference"]),
                facts=[str(f) for f in d["facts"]], gold=[str(g) for g in d["gold"]], answerable=bool(d["answerable"]),
                history=[(str(u), str(a)) for u, a in d.get("history", [])],
                split=None if d.get("split") is None else str(d["split"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise QAError(f"{path}:{n}: malformed item ({exc})") from exc
        if item.type not in TYPES:
            raise QAError(f"{path}:{n}: item {item.id}: unknown type {item.type!r}")
        if item.split is not None and item.split not in SPLITS:
            raise QAError(f"{path}:{n}: item {item.id}: unknown split {item.split!r} (use {' or '.join(SPLITS)})")
        if item.id in seen:
            raise QAError(f"{path}:{n}: duplicate id {item.id}")
        seen.add(item.id)
        items.append(item)
    return items


def indexed_text(path: Path, corpus: Path) -> str:
    """The text of a corpus file as the pipeline indexes it (a PDF's text layer, Markdown rendered); QAError
    saying why when it is missing or cannot be read."""
    from qa.ingest.loader import load

    if not path.is_file():
        raise QAError(f"{path.name} is not a file of {corpus}")
    try:
        return load(path, corpus).text
    except ValueError as exc:
        raise QAError(f"{path.name} cannot be read: {exc}") from exc


def fact_gate(items: list[Item], corpus: Path) -> None:
    """Fail, naming the item, if a required fact is in none of its gold files as indexed (or one is missing)."""
    cache: dict[str, str] = {}
    for item in items:
        if item.answerable and (not item.facts or not item.gold):
            raise QAError(f"fact gate: item {item.id} is answerable but has no facts or no gold files")
        for name in item.gold:
            if name not in cache:
                try:
                    cache[name] = indexed_text(corpus / name, corpus)
                except QAError as exc:
                    raise QAError(f"fact gate: item {item.id}: gold file {exc}") from exc
        for fact in item.facts:
            if fact.startswith("re:"):
                try:
                    re.compile(fact[3:])
                except re.error as exc:
                    raise QAError(f"fact gate: item {item.id}: bad regex {fact!r}: {exc}") from exc
            if not any(fact_matches(fact, cache[g]) for g in item.gold):
                raise QAError(f"fact gate: item {item.id}: fact {fact!r} occurs in none of its gold files {item.gold}")
