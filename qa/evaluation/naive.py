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
        self.chain = naive_prompt() | get_llm(settings) | StrOutputParser()

    def ask(self, question: str, history: object = None) -> Answer:
        """Answer like the tutorial: retrieve 4, stuff, generate; history is ignored."""
        t0 = time.perf_counter()
        scores = self.vectors @ embed([question])[0]
        top = [self.chunks[i] for i in np.argsort(-scores)[: self.k]]
        text = self.chain.invoke({"question": question, "context": "\n\n".join(c.text for c in top)})
        citations = [Citation(i, c.source, c.text, c.start, c.end, c.chunk_id, c.title) for i, c in enumerate(top, 1)]
        return Answer(question=question, text=text.strip(), citations=citations, refused=False, evidence=top,
                      timings={"total": time.perf_counter() - t0})
