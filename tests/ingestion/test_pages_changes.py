"""Store pages on the change path: a load writes every section once; an edit to one section
re-embeds that section alone (through the outbox and the worker), and product queries never
see page points. Real SQLite SoR and Edge index; only the model is a deterministic hash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from cdc_helpers import TENANT, FakeEmbedder, make_worker, product, stack

from app.wiring import Services
from catalog.pages import PageSection, parse_page
from ingestion.pages import ingest_pages
from ingestion.pipeline import ingest_products
from search import SearchFilter

RETURNS = """# Returns

## Return window

You can return any item within 30 days.

## Refunds

Refunds reach your card within 5 working days.
"""


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    async with stack(tmp_path) as services:
        yield services


def _pages() -> list[PageSection]:
    return parse_page("returns", RETURNS, url="/help/returns")


async def test_bulk_load_is_idempotent_and_keeps_products_apart(svc: Services) -> None:
    embedder: FakeEmbedder = svc.embedder  # type: ignore[assignment]
    await ingest_products([product(1)], tenant=TENANT, sor=svc.sor, writer=svc.writer)
    first = await ingest_pages(_pages(), tenant=TENANT, sor=svc.sor, writer=svc.writer)
    assert (first.sections, first.written, first.embedded) == (2, 2, 2)
    again = await ingest_pages(_pages(), tenant=TENANT, sor=svc.sor, writer=svc.writer)
    assert (again.written, again.embedded, again.unchanged) == (0, 0, 2)

    vector = embedder.embed_query("refunds")
    products = svc.index.query(SearchFilter(TENANT), dense=vector, limit=50)
    assert products and all(h.payload.get("kind") != "page" for h in products)
    pages = svc.index.query(SearchFilter(TENANT, pages=True), dense=vector, limit=50)
    assert {h.sku for h in pages} == {"page:returns#return-window", "page:returns#refunds"}
    assert svc.index.lookup(TENANT, skus=["page:returns#refunds"]) == []
    hits = svc.retriever.pages("how long do refunds take", TENANT, limit=2)
    assert {h.key for h in hits} == {"page:returns#return-window", "page:returns#refunds"}
    assert hits[0].payload["url"] == "/help/returns" and hits[0].relevance != 0

    # A product re-ingest with --prune leaves the page points alone.
    texts = len(embedder.texts)
    await ingest_products([product(1)], tenant=TENANT, sor=svc.sor, writer=svc.writer,
                          prune=True)
    assert len(svc.index.states(TENANT, [h.key for h in hits])) == 2
    assert len(embedder.texts) == texts


async def test_one_edited_section_is_re_embedded_alone_by_the_worker(
    svc: Services, tmp_path: Path
) -> None:
    embedder: FakeEmbedder = svc.embedder  # type: ignore[assignment]
    worker = make_worker(svc, tmp_path, sources=("outbox",))
    await worker.start()
    try:
        await svc.sor.upsert_pages(TENANT, _pages())
        assert await worker.drain(10)
        assert len(embedder.texts) == 2
        states = svc.index.states(TENANT, ["page:returns#refunds"])
        version = states["page:returns#refunds"].version

        edited = _pages()
        edited[1] = replace(edited[1], text="Refunds reach your card within 3 working days.")
        await svc.sor.upsert_pages(TENANT, edited)
        assert await worker.drain(10)
        assert embedder.texts[2:] == ["Returns: Refunds\n"
                                      "Refunds reach your card within 3 working days."]
        point = svc.index.lookup(TENANT, skus=["page:returns#refunds"],
                                 flt=SearchFilter(TENANT, pages=True))
        assert point[0].payload["body"].endswith("3 working days.")
        assert svc.index.states(TENANT, ["page:returns#refunds"])[
            "page:returns#refunds"].version > version

        await svc.sor.upsert_pages(TENANT, edited[:1])  # the section was removed from the page
        assert await worker.drain(10)
        assert svc.index.states(TENANT, ["page:returns#refunds"]) == {}
        assert len(embedder.texts) == 3
    finally:
        await worker.stop()
    assert await svc.sor.pending_changes() == 0
