"""Webhook writes in two API processes at once on PostgreSQL: the SoR's guard keeps the newest.

Each child process is what an API process runs for ``POST /v1/catalog/events``: ``parse_batch``
then ``ShopWrites.write`` (retries, DLQ), against one PostgreSQL schema. Versions are split
between the two and shuffled, so each process keeps receiving events older than ones the other
already applied: no process memory could know that, only the SoR.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog.models import Money, Product, Sku, Stock
from catalog.sor.postgres import PostgresSor

pytestmark = [pytest.mark.postgres]

PG = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[2]
TOP = 240  # versions 1..TOP; every fourth is a whole-product upsert, TOP is one
SKUS = ("W-1", "W-2")

_CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from prometheus_client import CollectorRegistry
    from catalog.sor import open_sor
    from ingestion.sources.webhook import parse_batch
    from ingestion.worker.failures import Retry
    from ingestion.worker.metrics import WorkerMetrics
    from ingestion.worker.outcomes import DeadLetters, Outcomes
    from ingestion.worker.shop_writes import ShopWrites
    from ingestion.worker.status import SorFigures

    url, go, items = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])

    async def main():
        sor = open_sor(url)
        await sor.open()
        metrics = WorkerMetrics(CollectorRegistry(), queue_depth=lambda: 0.0,
                                lag_seconds=lambda: 0.0)
        outcomes = Outcomes(metrics)
        outcomes.start()
        writes = ShopWrites(sor, outcomes, DeadLetters(sor, outcomes, SorFigures()), Retry(5))
        writes.start()
        events, rejected = parse_batch(items, tenant="demo")
        assert not rejected, rejected
        while not go.exists():
            time.sleep(0.005)
        for event in events:  # one request per event, as a chatty sender would post them
            await writes.write(event)
        await sor.close()
        print(json.dumps(outcomes.counts))

    asyncio.run(main())
    """
)


@pytest.fixture
async def sor() -> AsyncIterator[PostgresSor]:
    schema = f"shopw_{uuid.uuid4().hex[:10]}"
    store = PostgresSor(PG, schema=schema)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def event(v: int) -> dict[str, Any]:
    """Version ``v``: a whole-product upsert (every fourth), else a price or stock move."""
    if v % 4 == 0:
        skus = [{"sku": s, "price": {"amount": str(v)}, "stock": {"quantity": v % 7}}
                for s in SKUS]
        return {"id": f"e{v}", "entity": "product", "op": "upsert", "version": v,
                "product": {"product_id": "W", "title": f"Widget {v}", "skus": skus}}
    sku = SKUS[v % 2]
    if v % 4 == 1:
        return {"id": f"e{v}", "op": "price", "sku": sku, "version": v,
                "price": {"amount": str(v)}}
    return {"id": f"e{v}", "op": "stock", "sku": sku, "version": v, "stock": {"quantity": v % 5}}


async def test_two_api_processes_posting_out_of_order_keep_the_newest(
    sor: PostgresSor, tmp_path: Path
) -> None:
    start = [Sku(sku=s, price=Money(amount=Decimal("1.00")), stock=Stock(quantity=1))
             for s in SKUS]
    await sor.upsert_products([Product(product_id="W", title="Widget", skus=start)])
    versions = list(range(1, TOP + 1))
    random.Random(12).shuffle(versions)
    halves = (versions[::2], versions[1::2])
    url = f"{PG}?options=-csearch_path%3D{sor.schema}"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, url, str(go), json.dumps([event(v) for v in half])],
            cwd=ROOT, stdout=subprocess.PIPE,
        )
        for half in halves
    ]
    await asyncio.sleep(1.0)  # both import and connect; then they start together
    go.touch()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    counts = [json.loads(o) for o in outs]

    assert sum(c["applied"] + c["skipped_stale"] for c in counts) == TOP
    assert all(c["skipped_stale"] > 0 for c in counts)  # each met events older than the SoR
    assert sum(c["dead_lettered"] for c in counts) == 0 and await sor.count_dead_letters() == 0
    # TOP is a whole-product upsert: whatever order they arrived in, it is what the shop shows.
    offers = await sor.get_offers("demo", list(SKUS))
    for s in SKUS:
        assert offers[s].price == Money(amount=Decimal(TOP)), s
        assert offers[s].stock is not None and offers[s].stock.quantity == TOP % 7, s
    got = await sor.get_product_by_sku("demo", "W-1")
    assert got is not None and got.title == f"Widget {TOP}"
