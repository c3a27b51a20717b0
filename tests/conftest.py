"""Shared fixtures: a real Chroma store over the seed articles, built once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The shipped seed articles."""
    return SEEDS


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory):
    """Settings for a session-wide store over a copy of the seeds (SmolLM2 as the model)."""
    from qa.settings import load_settings

    base = tmp_path_factory.mktemp("seedstore")
    corpus = base / "corpus"
    shutil.copytree(SEEDS, corpus)
    return load_settings(corpus=str(corpus), store=str(base / "store"), llm_preset="smollm2")


@pytest.fixture(scope="session")
def seed_pipeline(seed_settings):
    """A pipeline whose store holds the seeds."""
    from qa.api import get_pipeline

    pipeline = get_pipeline(seed_settings)
    pipeline.ensure_index()
    return pipeline


@pytest.fixture
def tmp_settings(tmp_path: Path):
    """Settings for an empty corpus dir and store under tmp_path."""
    from qa.settings import load_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return load_settings(corpus=str(corpus), store=str(tmp_path / "store"), llm_preset="smollm2")
