"""Index fixtures: every VectorIndex contract test runs on Qdrant Edge and qdrant-client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.index.base import VectorIndex
from tests.search.index_support import loaded


@pytest.fixture(params=["edge", "client"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    """A fresh, writable index per test."""
    idx = loaded(request.param, tmp_path / "shard")
    yield idx
    idx.close()


@pytest.fixture(scope="module", params=["edge", "client"])
def ro_index(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VectorIndex]:
    """One shared index per backend for tests that only read (creating shards costs fsyncs)."""
    idx = loaded(request.param, tmp_path_factory.mktemp("ro") / "shard")
    yield idx
    idx.close()
