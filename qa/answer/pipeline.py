"""The question-answering pipeline: retrieve → choose evidence → read → ground → answer.

The reader (:mod:`qa.answer.reader`) says which numbered sentences answer and words a short answer; it reads
the best few first, and when nothing from those stands it imagines what an answer would say and the search
runs again with those words before it reads the wider evidence;
the grounding contract (:mod:`qa.answer.grounding`) keeps what the cited sentences back, quoting the
chosen sentence itself when the wording strays; every threshold is in :class:`~qa.answer.policy.Policy`.
Verified text is streamed sentence by sentence as it is written.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from qa.answer.citations import without_markers
from qa.answer.evidence import choose, rank, sentences
from qa.answer.grounding import Backed, Grounder
from qa.answer.policy import Policy
from qa.answer.reader import LexicalReader, ModelReader, Reading
from qa.components.llm import get_llm, reported
from qa.components.vector_store import Store, open_store
from qa.errors import QAError
from qa.ingest.indexer import IngestReport, ingest
from qa.models import Answer, Passage, Progress
from qa.retrieval.hybrid import HybridRetriever
from qa.settings import Settings

NOTHING_RELEVANT = "Nothing in the indexed documents is relevant to this question."
MODEL_DECLINED = "The most relevant passages do not contain the answer."
UNVERIFIED = "No statement of the draft answer could be verified against the passages."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_question(question: object, max_chars: int) -> str:
    """Validate a question: a non-empty string of at most ``max_chars``; control characters removed."""
    if not isinstance(question, str):
        raise QAError("question must be a string")
    if len(question) > max_chars:
        raise QAError(f"question is too long ({len(question)} characters; the limit is {max_chars})")
    text = _CONTROL.sub(" ", question).strip()
    if not text:
        raise QAError("question is empty")
    return text


def clean_history(history: object) -> list[tuple[str, str]]:
    """History as (user, assistant) string pairs."""
    try:
        return [(str(user or ""), str(bot or "")) for user, bot in history or []]  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise QAError("history must be a list of (question, answer) pairs") from exc


@dataclass
class Prepared:
    """Everything decided before the reader reads."""

    question: str  # as asked, spelling corrected
    query: str  # what was searched: a follow-up with the turn before it
    evidence: list[Passage]
    lead: list[Passage]  # the best of them, read first (all of them only when those do not answer)
    relevance: float  # the best sentence's score
    retrieved: list[Passage]  # the chunks the evidence was chosen from
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def chunks(self) -> dict[str, str]:  # chunk id → text of the retrieved chunks
        return {c.chunk_id: c.text for c in self.retrieved}


class AnswerStream:
    """Iterate to receive verified answer text as it is produced; ``.answer`` is set at the end. ``events()``
    gives the same text with, before it, each :class:`~qa.models.Progress` (what the model is reading)."""

    def __init__(self, gen: Iterator[str | Progress]) -> None:
        self._gen = gen
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(e for e in self._gen if isinstance(e, str))

    def events(self) -> Iterator[str | Progress]:
        """Verified text and progress, as they happen."""
        return self._gen

    def result(self) -> Answer:
        """Drain the stream and return the final Answer."""
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


class Pipeline:
    """Wires store, retriever, evidence selection, LLM and verifier for one configuration."""

    def __init__(self, settings: Settings, llm: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.policy = Policy.from_settings(settings)
        self._llm = llm  # injected model (tests, mock mode); default: the configured backend
        self._lock = threading.RLock()
        self._store: Store | None = None
        self._retriever: HybridRetriever | None = None

    # ---- components -----------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The Chroma store (opened on first use)."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    @property
    def retriever(self) -> HybridRetriever:
        """The hybrid retriever over the store."""
        with self._lock:
            if self._retriever is None:
                self._retriever = HybridRetriever(store=self.store, k=self.settings.k)
            return self._retriever

    @property
    def llm(self) -> BaseChatModel:
        """The chat model (the configured backend, loaded once per process)."""
        return self._llm if self._llm is not None else get_llm(self.settings)

    def ingest(self, corpus: str | None = None, progress: bool = False) -> IngestReport:
        """Index ``corpus`` (default: the configured one) incrementally."""
        with self._lock:
            return ingest(self.store, Path(corpus) if corpus else self.settings.corpus, self.settings, progress)

    def ensure_index(self) -> None:
        """Build the index from the configured corpus if the store is empty."""
        with self._lock:
            if self.store.count() == 0:
                self.ingest()

    def warm_up(self) -> None:
        """Open the store and the lexical index and load the models before the first question (``qa ui`` does
        this at start), so that the first question after a restart is as fast as the next."""
        self.prepare("warm up", [])  # everything before the model loads its data (it builds the index if empty): the
        # store, the lexical index and spelling vocabulary, the embedder, tiktoken (~0.2 s of a first question, bench/RESULTS.md)
        with reported(self.settings):  # a model that does not load: one line naming the backend, as a question would get
            if isinstance(reader := self.reader(), ModelReader):
                reader.warm_up()

    # ---- stages ---------------------------------------------------------------------------
    def prepare(self, question: str, history: list[tuple[str, str]], hint: str = "",
                found: list[Passage] | None = None) -> Prepared:
        """Retrieve chunks, choose the numbered evidence; ``hint``'s chunks add to the question's own (``found``)."""
        t0 = time.perf_counter()
        self.ensure_index()
        index = self.retriever.bm25()
        asked = index.correct_spelling(question)
        query = asked
        if history:  # "who did he call?": the turn before says who
            query = f"{asked} {history[-1][0]} {without_markers(history[-1][1])[:200]}"
        chunks = self.retriever.search(f"{query} {hint}".strip(), self.settings.k)
        if hint:  # the imagined words add candidates; those of the question's own search stay
            have = {c.chunk_id for c in chunks}
            chunks += [c for c in (self.retriever.search(query, self.settings.k) if found is None else found)
                       if c.chunk_id not in have]
        query = f"{query} {hint}".strip()
        t1 = time.perf_counter()
        ranked = rank(query, sentences(chunks, index.section), index.idf, self.policy)
        evidence, lead = choose(ranked, self.policy)
        timings = {"retrieve": t1 - t0, "select": time.perf_counter() - t1}
        return Prepared(asked, query, evidence, lead, ranked[0][0] if ranked else 0.0, chunks, timings)

    def reader(self) -> ModelReader | LexicalReader:
        """The configured reader (see :mod:`qa.answer.reader`)."""
        if self.settings.reader == "lexical":
            return LexicalReader(self.retriever.bm25().idf)
        return ModelReader(self.llm, self.policy)

    def stream(self, question: str, history: object = None) -> AnswerStream:
        """Answer ``question``; iterate the result for verified text as it is generated."""
        q = clean_question(question, self.settings.max_question_chars)
        h = clean_history(history)
        holder = AnswerStream(iter(()))
        holder._gen = self._run(q, h, holder)
        return holder

    def ask(self, question: str, history: object = None) -> Answer:
        """Answer ``question`` and return the verified :class:`Answer`."""
        return self.stream(question, history).result()

    # ---- reading and grounding ------------------------------------------------------------
    def _run(self, question: str, history: list[tuple[str, str]], holder: AnswerStream) -> Iterator[str | Progress]:
        t0 = time.perf_counter()
        prep = self.prepare(question, history)
        timings = dict(prep.timings, relevance=prep.relevance)
        grounder = Grounder(prep.question, prep.evidence, self.policy, prep.chunks)
        kept: list[str] = []

        def emit(piece: str | None) -> Iterator[str]:
            if piece:
                kept.append(piece)
                timings.setdefault("first_token", time.perf_counter() - t0)
                yield piece if len(kept) == 1 else " " + piece

        reading, reason, reader = Reading(), MODEL_DECLINED, self.reader()
        judged: dict[tuple[tuple[str, int], ...], float | None] = {}

        def answers(backed: Backed | None, bar: float = self.policy.judge_at) -> Backed | None:
            """``backed`` if the reader's judge does not find that its quotes fail to answer the question."""
            if backed is None or not self.policy.judge_at:
                return backed
            key = tuple((p.source, p.start) for p in backed.quotes)
            if key not in judged:
                judged[key] = reader.judge(prep.question, backed.quotes, history)
            p = judged[key]
            grounder.stats["unjudged" if p is not None and p < bar else "judged"] += p is not None
            return None if p is not None and p < bar else backed

        def read(shown: list[Passage], refuse_at: float, bar: float) -> Generator[str | Progress, None, tuple[Reading, bool]]:
            """What is read, then verified text of the reader's claims from the ``shown`` sentences, each judged
            at ``bar``; its reading and whether it declined."""
            timings.setdefault("first_progress", time.perf_counter() - t0)
            yield Progress.of(shown)
            stream = reader.read(prep.question, shown, history, refuse_at)
            declined = False
            with reported(self.settings):
                while True:
                    try:
                        kind, value = next(stream)
                    except StopIteration as stop:
                        return stop.value, declined
                    if kind == "claim":
                        sentence, ids = value  # type: ignore[misc]
                        cited = [shown[i - 1] for i in ids]
                        backed = grounder.claim(sentence, cited)
                        declined |= backed is None and grounder.declines(sentence, cited)
                        yield from emit(grounder.say(b) if (b := answers(backed, bar)) else None)

        if not prep.evidence or prep.relevance < self.policy.min_relevance:
            reason = NOTHING_RELEVANT
        else:
            t_read = time.perf_counter()
            wider = len(prep.lead) < len(prep.evidence)
            if wider:  # the leading sentences first: about half the questions end there
                reading, declined = yield from read(prep.lead, self.policy.widen_at, self.policy.lead_judge_at)
                timings["p_none_lead"] = reading.p_none if reading.p_none is not None else -1.0
            if not kept:
                with reported(self.settings):
                    hint = reader.imagine(prep.question, history) if wider else ""
                if hint:  # search again with the words an answer would use ("owned up to" finds "claimed responsibility")
                    wide = self.prepare(question, history, hint, prep.retrieved)
                    prep.evidence = grounder.evidence = wide.evidence or prep.evidence
                    grounder.chunks.update(wide.chunks)
                reading, declined = yield from read(prep.evidence, self.policy.refuse_at, self.policy.judge_at)
                timings["widened"] = float(wider)
            if kept:  # further accounts: the best max_accounts + 1 candidates judged, at most max_accounts said
                said = len(kept)
                for backed in grounder.accounts(judged=bool(self.policy.judge_at))[:self.policy.max_accounts + 1]:
                    if len(kept) - said < self.policy.max_accounts:
                        yield from emit(grounder.say(b) if (b := answers(backed, self.policy.account_judge_at)) else None)
            elif reading.claims and not declined:
                reason = UNVERIFIED
            timings["read"] = time.perf_counter() - t_read
        refused = not kept
        text = " ".join(kept) if kept else f"The sources do not say. {reason}"
        if refused:
            timings.setdefault("first_token", time.perf_counter() - t0)
            yield text
        timings.update(total=time.perf_counter() - t0, prompt_tokens=float(reader.prompt_tokens), model_calls=float(reader.calls))
        if reading.p_none is not None:
            timings["p_none"] = reading.p_none
        timings.update({f"n_{k}": float(v) for k, v in grounder.stats.items()})
        timings.update({f"p_yes_{i}": p for i, p in enumerate(judged.values()) if p is not None})
        holder.answer = Answer(
            question=question, text=text, citations=[] if refused else grounder.citations.items, refused=refused,
            evidence=prep.evidence, timings=timings, reason=reason if refused else "",
            raw=reading.text, standalone=prep.query,
        )
