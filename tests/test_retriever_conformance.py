"""LangChain's standard retriever tests (langchain-tests, pinned in constraints.txt) against our
HybridRetriever over a real Chroma store of the seeds."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from qa.retrieval.hybrid import HybridRetriever


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    store = None

    @pytest.fixture(autouse=True)
    def _seed_store(self, seed_pipeline):
        type(self).store = seed_pipeline.store

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"store": self.store, "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "What was the code name of Pakistan's retaliatory operation?"


def test_async_invoke_matches_invoke(seed_pipeline):
    import asyncio

    retriever = HybridRetriever(store=seed_pipeline.store, k=3)
    query = "Which country offered to mediate?"
    sync_ids = [d.id for d in retriever.invoke(query)]
    assert [d.id for d in asyncio.run(retriever.ainvoke(query))] == sync_ids
