"""Switching the embedding backend re-embeds, and never serves a mix of vector spaces.

Real SQLite SoR, embedded Qdrant and two real embedders: the default (ONNX int8) and torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from app.wiring import services
from catalog.errors import IndexUnavailable
from ingestion.pipeline import ingest_products
from search import Embedder, SearchFilter
from tests.ingestion.test_pipeline import CATALOG

pytestmark = [pytest.mark.model, pytest.mark.slow]


async def ingest(settings: Settings, embedder: Any) -> Any:
    async with services(settings, embedder=embedder, reembed=True) as svc:
        return await ingest_products(CATALOG, tenant="demo", sor=svc.sor, writer=svc.writer)


async def test_switching_backend_re_embeds_everything_then_serves(
    tmp_path: Path, embedder: Any
) -> None:
    settings = Settings(DATA_DIR=tmp_path)
    torch = Embedder(backend="torch", threads=1)
    first = await ingest(settings, torch)
    assert first.embedded == len(CATALOG) and first.embedder == torch.model_id

    with pytest.raises(IndexUnavailable, match="shopkeeper ingest"):
        async with services(settings, embedder=embedder):
            pass  # serving with ONNX over torch's vectors is refused

    second = await ingest(settings, embedder)  # same texts, new model id: all re-embedded
    assert second.embedded == len(CATALOG) and second.other_embedder_points == 0
    async with services(settings, embedder=embedder) as svc:
        assert svc.index.embedder_id() == embedder.model_id
        hits = svc.retriever.search("wireless mouse", SearchFilter(tenant="demo"), mode="dense")
        assert hits[0].sku == "m1"
        stored = svc.index.lookup("demo", skus=["m1"])[0].payload
        assert stored["embedder"] == embedder.model_id

    third = await ingest(settings, embedder)  # and a re-run embeds nothing
    assert third.embedded == 0 and third.unchanged == len(CATALOG)
