"""Issue 12 through the real webhook: an older event never wins, even after the server restarts.

Each ``running_app`` is a whole server lifetime (SQLite SoR, Qdrant Edge, in-process worker);
leaving it is the restart. The versions live in the SoR, so nothing the old process remembered
is needed, and a refused event reaches neither the SoR, nor the outbox, nor the index.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from catalog.models import Product
from tests.http_support import INGEST_KEY, fresh_copy, http_settings, running_app

pytestmark = [pytest.mark.model, pytest.mark.slow]

PRODUCT, MOUSE, SIBLING = "icecat-122442", "122442", "441710"  # a demo product with two SKUs


async def post(client: httpx.AsyncClient, *events: dict[str, Any]) -> list[str]:
    resp = await client.post("/v1/catalog/events", json=list(events),
                             headers={"X-API-Key": INGEST_KEY})
    assert resp.status_code == 202, resp.text
    outcomes = resp.json()["outcomes"]
    return [outcomes[e["id"]] for e in events]


def price(sku: str, version: int, amount: str) -> dict[str, Any]:
    return {"id": f"price-{sku}-{version}", "op": "price", "sku": sku, "version": version,
            "price": {"amount": amount}}


def upsert(product: Product, version: int, amount: str, qty: int) -> dict[str, Any]:
    """The whole product again, every SKU at ``amount`` and ``qty`` (older values, say)."""
    body = product.model_dump(mode="json", exclude={"tenant"})
    for s in body["skus"]:
        s["price"] = {"amount": amount, "currency": s["price"]["currency"]}
        s["stock"] = {"quantity": qty}
    return {"id": f"upsert-{version}", "entity": "product", "op": "upsert",
            "version": version, "product": body}


async def live(app: FastAPI, sku: str) -> tuple[Decimal | None, int | None]:
    """(price, stock) in the SoR after the worker settled, and the index agreeing with it."""
    runtime = app.state.runtime
    assert await runtime.worker.drain(30)
    offer = (await runtime.services.sor.get_offers("demo", [sku])).get(sku)
    state = runtime.services.index.states("demo", [sku]).get(sku)
    if offer is None:
        assert state is None, f"{sku} is gone from the SoR but not from the index"
        return None, None
    assert offer.price is not None and offer.stock is not None
    assert state is not None and state.price == float(offer.price.amount)
    return offer.price.amount, offer.stock.quantity


async def test_older_events_lose_across_restarts(
    tmp_path: Path, demo_data: Path, embedder: Any
) -> None:
    settings = http_settings(fresh_copy(demo_data, tmp_path / "data"))
    async with running_app(settings, embedder) as (app, client):
        sor = app.state.runtime.services.sor
        [product] = [p async for p in sor.iter_products("demo") if p.product_id == PRODUCT]
        assert {s.sku for s in product.skus} == {MOUSE, SIBLING}
        assert await post(client, price(MOUSE, 1000, "15.49")) == ["applied"]
        assert await live(app, MOUSE) == (Decimal("15.49"), 52)

    async with running_app(settings, embedder) as (app, client):  # restarted: a fresh process
        # Issue 12, item 1: version 500 after 1000 is stale; the shop keeps the newer price.
        assert await post(client, price(MOUSE, 500, "9.99")) == ["skipped_stale"]
        assert await live(app, MOUSE) == (Decimal("15.49"), 52)
        # Item 2: a whole-product upsert at 15 carrying a lower price and other stock applies
        # to the SKU that is older and never overwrites the newer one.
        assert await post(client, upsert(product, 15, "1.00", 0)) == ["applied"]
        assert await live(app, MOUSE) == (Decimal("15.49"), 52)
        assert await live(app, SIBLING) == (Decimal("1.00"), 0)
        stats = app.state.runtime.worker.stats()
        assert stats["skipped_stale"] == 1 and stats["dead_lettered"] == 0
        assert await post(client, {"id": "del", "op": "delete", "sku": MOUSE,
                                   "version": 2000}) == ["applied"]
        assert await live(app, MOUSE) == (None, None)

    async with running_app(settings, embedder) as (app, client):
        # The delete left a tombstone: late events cannot bring the SKU back or price it.
        late = [upsert(product, 1500, "2.00", 4), price(MOUSE, 1999, "3.00")]
        assert await post(client, *late) == ["applied", "skipped_stale"]  # the sibling applies
        assert await live(app, MOUSE) == (None, None)
        assert await live(app, SIBLING) == (Decimal("2.00"), 4)
        assert await post(client, upsert(product, 900, "5.00", 5)) == ["skipped_stale"]
        assert await app.state.runtime.services.sor.count_dead_letters() == 0
        assert await post(client, upsert(product, 2001, "6.00", 6)) == ["applied"]
        assert await live(app, MOUSE) == (Decimal("6.00"), 6)  # newer: revived, everywhere
