"""The question-answering pipeline: condense → retrieve → select evidence → generate → verify.

The model only phrases and selects; grounding is enforced here. Evidence is a handful of numbered
sentences; every claim of the draft must cite one that backs its names, numbers and words, or it is
dropped. When nothing survives, the answer is a plain refusal.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from qa.answer.citations import MARKER, MARKER_RUN, is_refusal, parse_claims, strip_markers, with_marks
from qa.answer.decompose import split_question
from qa.answer.evidence import Scored, relevance, score_sentences, select, split_sentences, windows
from qa.answer.judge import sentence_judge
from qa.answer.other_accounts import other_accounts
from qa.answer.pointer import JUDGED_COVERAGE, pointed_sentence
from qa.answer.prompts import answer_prompt, condense_prompt
from qa.answer.support import unseen_names, unseen_terms
from qa.answer.verify import Verifier
from qa.components.llm import backend_error, get_llm
from qa.components.vector_store import Store, open_store
from qa.errors import BackendError, QAError
from qa.ingest.indexer import IngestReport, ingest
from qa.models import Answer, Citation, Passage
from qa.retrieval.hybrid import HybridRetriever
from qa.settings import Settings
from qa.text import sentence_spans

FALLBACK_COVERAGE = 0.6  # a pointer to the wrong passage: any evidence sentence must cover this much
EXTRACT_COVERAGE = 0.7  # the model declined: a sentence must cover this much of the question to be quoted
# ... or the model vouches for it: the best covering DECLINED_JUDGED sentences covering at least
# DECLINED_COVERAGE are put to the judge (the answer may be worded unlike the question: "offered to mediate"
# for "volunteered to act as a go-between")
DECLINED_COVERAGE = 0.15
DECLINED_JUDGED = 4
RELEVANCE_FLOOR = 0.3  # below this, nothing retrieved is about the question: refuse without the model
NOTHING_RELEVANT = "Nothing in the indexed documents is relevant to this question."
MODEL_DECLINED = "The most relevant passages do not contain the answer."
UNVERIFIED = "No statement in the draft answer could be verified against the passages it cited."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refusal_text(reason: str) -> str:
    """The user-facing refusal."""
    return f"The sources do not say. {reason}"


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
    if not history:
        return []
    out = []
    try:
        for user, bot in history:  # type: ignore[attr-defined]
            out.append((str(user or ""), str(bot or "")))
    except (TypeError, ValueError) as exc:
        raise QAError("history must be a list of (question, answer) pairs") from exc
    return out


@dataclass
class Part:
    """One answered (or not) question of a possibly compound question."""

    question: str
    prep: Prepared
    verifier: Verifier | None
    kept: list[str]
    draft: str
    reason: str

    @property
    def text(self) -> str:
        """The verified answer text of this part ("" when it found none)."""
        return " ".join(self.kept)


@dataclass
class Prepared:
    """Everything decided before the model writes."""

    question: str  # standalone (condensed, spelling corrected)
    query: str  # what was searched
    asked: str  # what the answer is checked against: the standalone question and the spelling-corrected turn
    evidence: list[Passage]
    relevance: float
    timings: dict[str, float] = field(default_factory=dict)
    turn: str = ""  # the spelling-corrected question as the user put it ("was it carried out in?")


class AnswerStream:
    """Iterate to receive verified answer text as it is produced; ``.answer`` is set at the end."""

    def __init__(self, gen: Iterator[str]) -> None:
        self._gen = gen
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._gen)

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
        from pathlib import Path

        with self._lock:
            return ingest(self.store, Path(corpus) if corpus else self.settings.corpus, self.settings, progress)

    def ensure_index(self) -> None:
        """Build the index from the configured corpus if the store is empty."""
        with self._lock:
            if self.store.count() == 0:
                self.ingest()

    # ---- stages ---------------------------------------------------------------------------
    def condense(self, question: str, history: list[tuple[str, str]]) -> str:
        """A standalone version of a follow-up question (the question itself without history)."""
        if not history:
            return question
        turns = "\n".join(f"User: {u}\nAssistant: {_strip_cites(a)[:400]}" for u, a in history[-3:])
        chain = condense_prompt() | self.llm | StrOutputParser()
        try:
            out = chain.invoke({"history": turns, "question": question}, config={"max_tokens": 60})
        except Exception as exc:
            raise backend_error(self.settings, exc) from exc
        line = next((ln.strip() for ln in out.strip().splitlines() if ln.strip()), "")
        line = re.sub(r"^(standalone question|question)\s*:\s*", "", line, flags=re.IGNORECASE).strip().strip('"')
        if not line or len(line) > 400 or line.count("?") > 2:
            return f"{history[-1][0]} {question}"
        return line

    def prepare(self, question: str, history: list[tuple[str, str]]) -> Prepared:
        """Condense, retrieve chunks and choose the numbered evidence sentences."""
        t0 = time.perf_counter()
        self.ensure_index()
        index = self.retriever.bm25()
        standalone = index.correct_spelling(self.condense(question, history))
        turn = index.correct_spelling(question)
        asked = standalone if turn == standalone else f"{standalone} {turn}"
        t1 = time.perf_counter()
        query = standalone if not history else f"{standalone} {question}"
        chunks = self.retriever.search(query, self.settings.k)
        t2 = time.perf_counter()
        idf = self.retriever.bm25().idf
        scored: list[Scored] = score_sentences(standalone, split_sentences(chunks, index.section), idf)
        chosen = select(scored, self.settings.evidence_sentences)
        evidence = windows(chosen, chunks, self.settings.evidence_tokens)
        t3 = time.perf_counter()
        return Prepared(standalone, query, asked, evidence, relevance(scored),
                        {"condense": t1 - t0, "retrieve": t2 - t1, "select": t3 - t2}, turn)

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

    # ---- generation -----------------------------------------------------------------------
    def _run(self, question: str, history: list[tuple[str, str]], holder: AnswerStream) -> Iterator[str]:
        """Answer each part of ``question`` in turn; one Answer with one citation numbering."""
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        numbering: list[Citation] = []
        parts = split_question(question)
        done: list[Part] = []
        for part in parts:
            earlier = [(d.question, d.text) for d in done]
            done.append((yield from self._answer_part(part, history + earlier, t0, timings, numbering)))
        answered = [d for d in done if d.kept]
        timings["total"] = time.perf_counter() - t0
        evidence = list({(p.source, p.start): p for d in done for p in d.prep.evidence}.values())
        if answered:
            text = " ".join(d.text for d in answered)
            silent = [d.question for d in done if not d.kept]
            if silent:  # say plainly which part the sources leave open
                note = f"No passage answers: {' '.join(silent)}"
                yield " " + note
                text = f"{text} {note}"
            refused, reason = False, ""
        else:
            reason = done[0].reason
            text = refusal_text(reason)
            timings.setdefault("first_token", time.perf_counter() - t0)
            yield text
            refused = True
        stats: Counter[str] = Counter()
        for d in done:
            if d.verifier:
                stats.update(d.verifier.stats)
        timings.update({f"n_{k}": float(v) for k, v in stats.items()})
        if len(parts) > 1:
            timings["n_parts"] = float(len(parts))
        holder.answer = Answer(
            question=question, text=text, citations=numbering if answered else [], refused=refused,
            evidence=evidence, timings=timings, reason=reason, raw="\n".join(d.draft for d in done),
            standalone=" ".join(d.prep.question for d in done),
        )

    def _answer_part(
        self, question: str, history: list[tuple[str, str]], t0: float, timings: dict[str, float],
        numbering: list[Citation],
    ) -> Generator[str, None, Part]:
        """Answer one question: yields verified pieces, returns what was kept and why."""
        prep = self.prepare(question, history)
        for k, v in prep.timings.items():
            timings[k] = timings.get(k, 0.0) + v
        lead = "first_token" in timings  # an earlier part already streamed text
        kept: list[str] = []

        def emit(piece: str) -> str:
            kept.append(piece)
            timings.setdefault("first_token", time.perf_counter() - t0)
            return piece if len(kept) == 1 and not lead else " " + piece

        if not prep.evidence or prep.relevance < RELEVANCE_FLOOR:
            return Part(question, prep, None, kept, "", NOTHING_RELEVANT)

        index = self.retriever.bm25()
        unseen = index.synonyms(unseen_terms(prep.asked, index.vocabulary))
        vouch = sentence_judge(self.llm, self.settings, prep.question)
        verifier = Verifier(prep.asked, prep.evidence, unseen, idf=index.idf, citations=numbering, vouch=vouch)
        evidence_block = "\n".join(f"[{i}] {p.text}" for i, p in enumerate(prep.evidence, 1))
        chain = answer_prompt() | self.llm | StrOutputParser()
        draft, done = "", 0
        t_gen = time.perf_counter()
        try:
            for delta in chain.stream({"evidence": evidence_block, "question": prep.question}):
                if "llm_first_token" not in timings:
                    timings["llm_first_token"] = time.perf_counter() - t0
                draft += delta
                cut = _complete_upto(draft, done)
                if cut > done:
                    for piece in self._verified(draft[done:cut], verifier):
                        yield emit(piece)
                    done = cut
        except BackendError:
            raise
        except Exception as exc:
            raise backend_error(self.settings, exc) from exc
        for piece in self._verified(draft[done:], verifier):
            yield emit(piece)
        timings["generate"] = timings.get("generate", 0.0) + time.perf_counter() - t_gen
        pointed = None
        if not kept and not strip_markers(draft).strip(" .,;:"):
            pointed = self._follow_pointer(draft, prep, verifier)
        if not kept and not pointed:
            pointed = self._plain_answer(prep, unseen, verifier)
        if pointed:
            yield emit(pointed)
        if kept:  # figures and role holders the answer leaves out
            for p, a, b in other_accounts(prep.asked, " ".join(kept), verifier.spans(), prep.evidence, index.idf):
                verifier.stats["other_accounts"] = verifier.stats.get("other_accounts", 0) + 1
                yield emit(f"Another account: {_cited(p.text[a:b], verifier.cite(p, a, b))}")
        reason = "" if kept else MODEL_DECLINED if is_refusal(draft) or not draft.strip() else UNVERIFIED
        return Part(question, prep, verifier, kept, draft, reason)

    def _follow_pointer(self, draft: str, prep: Prepared, verifier: Verifier) -> str | None:
        """The model answered with bare markers: quote the sentence it points to, if it fits."""
        cited = [int(n) for m in MARKER.finditer(draft) for n in re.findall(r"\d+", m.group(1))]
        passages = [prep.evidence[n - 1] for n in dict.fromkeys(cited) if 1 <= n <= len(prep.evidence)]
        idf = self.retriever.bm25().idf
        # names the corpus never uses must still be there; its other unseen words too, unless the model
        # vouches for the sentence (with no judge, only names are held to this)
        unseen, vouch = (verifier.unseen, verifier.vouch) if verifier.vouch else (
            unseen_names(prep.asked, verifier.unseen), None)
        # the passage pointed at first; for a follow-up, the words of the turn itself may do there, the
        # model having read what "it" is; failing that, the model still said the evidence holds the answer
        follow_up = prep.turn and prep.turn != prep.asked
        found = (
            pointed_sentence(prep.asked, passages, idf, unseen=unseen, vouch=vouch, judged_coverage=JUDGED_COVERAGE)
            or (pointed_sentence(prep.turn, passages, idf, unseen=unseen, vouch=vouch) if follow_up else None)
            or pointed_sentence(prep.asked, prep.evidence, idf, min_coverage=FALLBACK_COVERAGE, unseen=unseen,
                                vouch=vouch)
        )
        return _quote(found, verifier, "pointed")

    def _plain_answer(self, prep: Prepared, unseen: dict[str, set[str]], verifier: Verifier) -> str | None:
        """The model declined or said nothing verifiable: quote a sentence that plainly answers, if any.

        Plainly means: it covers most of the question's weighted terms (``EXTRACT_COVERAGE``), gives the
        answer type asked for, adds to the question, and holds the question's corpus-unseen words. A
        sentence short of that (lacking unseen words other than names, or covering less of the question,
        down to ``DECLINED_COVERAGE``) may do if the model vouches that it answers the question
        (``DECLINED_JUDGED`` judgements at most, best covering first).
        """
        idf = self.retriever.bm25().idf
        found = pointed_sentence(prep.asked, prep.evidence, idf, EXTRACT_COVERAGE, unseen, vouch=verifier.vouch,
                                 judged_coverage=DECLINED_COVERAGE, judged=DECLINED_JUDGED)
        return _quote(found, verifier, "extracted")

    @staticmethod
    def _verified(segment: str, verifier: Verifier) -> Iterator[str]:
        for claim in parse_claims(segment):
            text = verifier.check(claim)
            if text:
                yield text


def _quote(found: tuple[Passage, int, int] | None, verifier: Verifier, stat: str) -> str | None:
    """A sentence quoted verbatim as the answer, with its citation (None if nothing was found)."""
    if not found:
        return None
    p, a, b = found
    verifier.stats[stat] = 1
    return _cited(p.text[a:b], verifier.cite(p, a, b))


def _cited(quote: str, n: int) -> str:
    """A quote as answer text, its citation marker on each of its sentences.

    The marker goes before a sentence's final stop and after a closing quotation mark: ``region." [2]``
    would read as two sentences, the second only a marker.
    """
    return " ".join(with_marks(" ".join(quote[a:b].split()), f"[{n}]") for a, b in sentence_spans(quote))


def _complete_upto(draft: str, start: int) -> int:
    """End of the last marker run in ``draft[start:]`` that is followed by more text."""
    cut = start
    for run in MARKER_RUN.finditer(draft, start):
        rest = draft[run.end():]
        tail = re.match(r"[.,;:!?]*\s", rest)
        if tail:
            cut = run.end() + len(tail.group(0))
    return cut


def _strip_cites(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)
