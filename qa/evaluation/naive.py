"""LangChain's tutorial RAG as a baseline: 1000/200 character splits, top-4 "stuff" prompt.

Same embedder, same LLM, no refusal logic, the retrieved files as its sources.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from langchain_core.output_parsers import StrOutputParser
from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa.answer.prompts import naive_prompt
from qa.components.embedding import embed
from qa.components.llm import get_llm
from qa.ingest.loader import discover, load
from qa.models import Answer, Citation, Passage
from qa.settings import Settings


class NaiveRAG:
    """The tutorial pipeline over the same corpus (index built once, in memory)."""

    def __init__(self, settings: Settings, k: int = 4) -> None:
        self.settings = settings
        self.k = k
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        corpus = Path(settings.corpus)
        self.chunks: list[Passage] = []
        for path in discover(corpus):
            try:
                doc = load(path, corpus)
            except ValueError:
                continue
            for d in splitter.create_documents([doc.text]):
                start = int(d.metadata["start_index"])
                self.chunks.append(Passage(doc.source, doc.title, d.page_content, start, start + len(d.page_content),
                                           f"{doc.source}:{start}"))
        self.vectors = embed([c.text for c in self.chunks])
        self.prompt = naive_prompt()
        self.llm = get_llm(settings)
        self.chain = self.prompt | self.llm | StrOutputParser()

    def ask(self, question: str, history: object = None) -> Answer:
        """Answer like the tutorial: retrieve 4, stuff, generate (streamed); history is ignored.

        Timings: ``total``, ``first_token`` (the first streamed text), ``model_calls`` (1) and, when the model
        can count them, ``prompt_tokens`` (the whole prompt it is sent).
        """
        t0 = time.perf_counter()
        scores = self.vectors @ embed([question])[0]
        top = [self.chunks[i] for i in np.argsort(-scores)[: self.k]]
        inputs = {"question": question, "context": "\n\n".join(c.text for c in top)}
        timings: dict[str, float] = {"model_calls": 1.0}
        count = getattr(self.llm, "count_tokens", None)
        if callable(count):
            timings["prompt_tokens"] = float(count(self.prompt.format(**inputs)))
        text = ""
        for delta in self.chain.stream(inputs):
            if delta and "first_token" not in timings:
                timings["first_token"] = time.perf_counter() - t0
            text += delta
        timings["total"] = time.perf_counter() - t0
        timings.setdefault("first_token", timings["total"])
        citations = [Citation(i, c.source, c.text, c.start, c.end, c.chunk_id, c.title) for i, c in enumerate(top, 1)]
        return Answer(question=question, text=text.strip(), citations=citations, refused=False, evidence=top,
                      timings=timings)
