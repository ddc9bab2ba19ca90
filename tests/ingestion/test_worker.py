"""The change worker on the real SQLite SoR and the real embedded Edge index: the outbox path,
backpressure, per-SKU order, versions, shop writes, shutdown, metrics and the status file.

Only the embedding model is replaced (a deterministic hash, see ``cdc_helpers.FakeEmbedder``), so
these run in seconds; failures are injected by thin wrappers around the real components.
Retries and the DLQ are in ``test_worker_failures.py``, embedding in ``test_worker_embedding.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
from cdc_helpers import (
    TENANT,
    FakeEmbedder,
    GatedSor,
    assert_index_equals_sor,
    make_worker,
    note,
    product,
    raw_sql,
    settings_for,
    stack,
)
from prometheus_client import CollectorRegistry

from app.wiring import Services, build_worker
from catalog.models import Money, Stock
from ingestion.sources.webhook import parse_batch


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    async with stack(tmp_path) as services:
        yield services


# -- the outbox path end to end -------------------------------------------------------------------
async def test_outbox_changes_keep_the_index_equal_to_the_sor(
    svc: Services, tmp_path: Path
) -> None:
    embedder: FakeEmbedder = svc.embedder  # type: ignore[assignment]
    worker = make_worker(svc, tmp_path, sources=("outbox",))
    await worker.start()
    try:
        await svc.sor.upsert_products([product(i, skus=2) for i in range(10)])
        assert await worker.drain(10)
        assert len(embedder.texts) == 20
        await assert_index_equals_sor(svc.sor, svc.index)

        embedded_before = len(embedder.texts)
        await svc.sor.set_price(TENANT, "S1-0", Money(amount=Decimal("7.77")))
        await svc.sor.set_stock(TENANT, "S2-0", Stock(quantity=0, availability="out_of_stock"))
        await svc.sor.upsert_products([product(3, skus=2, title="Widget three, renamed")])
        await svc.sor.delete_sku(TENANT, "S4-1")
        await svc.sor.delete_product(TENANT, "p5")
        raw_sql(svc, "UPDATE skus SET price_amount = '1.23' WHERE sku = 'S6-1'")
        assert await worker.drain(10)
        # Only the renamed product's two SKUs were re-embedded; price/stock were payload-only.
        assert len(embedder.texts) - embedded_before == 2
        await assert_index_equals_sor(svc.sor, svc.index)
        assert svc.index.states(TENANT, ["S1-0"])["S1-0"].price == 7.77
        assert svc.index.states(TENANT, ["S2-0"])["S2-0"].in_stock == 0
        assert not svc.index.states(TENANT, ["S4-1", "S5-0", "S5-1"])
        stats = worker.stats()
        assert stats["dead_lettered"] == 0 and stats["queue_depth"] == 0
        assert stats["applied"] >= 26
    finally:
        await worker.stop()
    assert await svc.sor.pending_changes() == 0


# -- backpressure ---------------------------------------------------------------------------------
async def test_a_full_queue_blocks_the_producer_and_drops_nothing(
    svc: Services, tmp_path: Path
) -> None:
    await svc.sor.upsert_products([product(i) for i in range(40)])
    gated = GatedSor(svc.sor)
    gated.gate.clear()  # the SoR is "slow": nothing can be applied yet
    svc = dataclasses.replace(svc, sor=gated)  # type: ignore[arg-type]
    worker = make_worker(svc, tmp_path, partitions=2, WORKER_QUEUE_SIZE=8, WORKER_BATCH_SIZE=2)
    await worker.start()
    submitted: list[asyncio.Future[Any]] = []

    async def produce() -> None:
        for i in range(40):
            submitted.extend(await worker.submit([note(f"S{i}", 1)]))

    producer = asyncio.create_task(produce())
    await asyncio.sleep(0.3)
    # 2 partitions x (4 queued + a batch of 2 taken out) is all the worker can hold.
    assert not producer.done()
    assert len(submitted) <= 2 * (4 + 2) + 1
    assert worker.queue_depth == len(submitted) + 1  # + the one waiting for room
    gated.gate.set()
    await asyncio.wait_for(producer, 10)
    outcomes = await asyncio.wait_for(asyncio.gather(*submitted), 10)
    await worker.stop()
    assert len(outcomes) == 40 and set(outcomes) == {"applied"}
    assert svc.index.count(TENANT) == 40


# -- ordering -------------------------------------------------------------------------------------
async def test_each_skus_events_are_applied_in_order_and_never_concurrently(
    svc: Services, tmp_path: Path
) -> None:
    skus = [f"S{i}" for i in range(8)]
    await svc.sor.upsert_products([product(i) for i in range(8)])
    gated = GatedSor(svc.sor, jitter=0.003)
    svc = dataclasses.replace(svc, sor=gated)  # type: ignore[arg-type]
    worker = make_worker(svc, tmp_path, partitions=4, WORKER_BATCH_SIZE=3, WORKER_BATCH_MS=2)
    await worker.start()
    done: dict[str, list[int]] = {s: [] for s in skus}
    stream = [(sku, v) for v in range(1, 26) for sku in random.sample(skus, len(skus))]
    futures = []

    def record(sku: str, version: int, _: object) -> None:
        done[sku].append(version)

    for sku, version in stream:
        [fut] = await worker.submit([note(sku, version, source="kafka")])
        fut.add_done_callback(functools.partial(record, sku, version))
        futures.append(fut)
        if random.random() < 0.2:
            await asyncio.sleep(0.001)
    await asyncio.wait_for(asyncio.gather(*futures), 20)
    await worker.stop()
    assert all(done[s] == list(range(1, 26)) for s in skus), done
    assert gated.overlaps == []
    assert {worker.partition_of(note(s, 1)) for s in skus} == {
        worker.partition_of(note(s, 99, op="price")) for s in skus
    }


# -- versions -------------------------------------------------------------------------------------
async def test_stale_versions_are_skipped_and_counted(svc: Services, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    worker = make_worker(svc, tmp_path, registry=registry)
    await worker.start()
    await svc.sor.upsert_products([product(1)])
    version = (await svc.sor.sku_versions(TENANT))["S1"]
    assert await (await worker.submit([note("S1", version)]))[0] == "applied"
    assert svc.index.states(TENANT, ["S1"])["S1"].version == version

    [older, same, kafka] = await worker.submit(
        [note("S1", version - 1), note("S1", version), note("S1", 10**12, source="kafka")]
    )
    assert await older == "skipped_stale"
    assert await same == "skipped_unchanged"
    assert await kafka == "skipped_unchanged"  # LSNs are not SoR versions: re-read, no change
    # The index already holds a newer state than the SoR reports (another worker got there
    # first): writing would move it backwards, so the event is stale too.
    svc.index.set_payload(TENANT, "S1", {"version": version + 50})
    assert await (await worker.submit([note("S1", version + 1)]))[0] == "skipped_stale"
    await worker.stop()
    assert worker.stats()["skipped_stale"] == 2
    assert registry.get_sample_value("shopkeeper_changes_skipped_stale_total") == 2
    assert registry.get_sample_value("shopkeeper_changes_skipped_unchanged_total") == 2


# -- writes (webhook / file) ----------------------------------------------------------------------
async def test_webhook_writes_are_committed_before_submit_returns(
    svc: Services, tmp_path: Path
) -> None:
    worker = make_worker(svc, tmp_path, sources=("outbox",))
    await worker.start()
    body = product(1, skus=2).model_dump(mode="json", exclude={"tenant"})
    events, rejections = parse_batch([
        {"id": "e1", "entity": "product", "op": "upsert", "product": body, "version": 1},
        {"id": "e2", "op": "price", "sku": "S1-0", "version": 3, "price": {"amount": "9.99"}},
        {"id": "e3", "op": "price", "sku": "S1-0", "version": 2, "price": {"amount": "1.00"}},
        {"id": "e4", "op": "stock", "sku": "S1-1", "version": 4, "stock": {"quantity": 0}},
        {"id": "e5", "op": "price", "sku": "NOPE", "version": 5, "price": {"amount": "1.00"}},
    ], tenant=TENANT)
    assert rejections == []
    futures = await worker.submit(events)
    assert all(f.done() for f in futures)  # already in the SoR (or the DLQ) on return
    assert [f.result() for f in futures] == [
        "applied", "applied", "skipped_stale", "applied", "dead_lettered"
    ]
    offers = await svc.sor.get_offers(TENANT, ["S1-0", "S1-1"])
    assert offers["S1-0"].price == Money(amount=Decimal("9.99"))
    assert offers["S1-1"].stock is not None and offers["S1-1"].stock.quantity == 0
    [letter] = await svc.sor.list_dead_letters()
    assert letter.source == "webhook" and "unknown sku 'NOPE'" in letter.reason
    assert await worker.drain(10)
    await assert_index_equals_sor(svc.sor, svc.index)
    await worker.stop()


async def test_graceful_stop_finishes_in_flight_changes(svc: Services, tmp_path: Path) -> None:
    await svc.sor.upsert_products([product(i) for i in range(30)])
    worker = make_worker(svc, tmp_path, sources=("outbox",), WORKER_BATCH_SIZE=4)
    await worker.start()
    await asyncio.sleep(0.05)  # claims are under way
    await worker.stop(timeout=20)
    leased = raw_sql(svc, "SELECT count(*) FROM outbox WHERE done = 0 AND leased_until IS NOT NULL")
    assert leased == [(0,)]  # everything claimed was applied and acked, nothing left hanging
    done = raw_sql(svc, "SELECT count(*) FROM outbox WHERE done = 1")[0][0]
    assert svc.index.count(TENANT) == done > 0


# -- metrics and stats ----------------------------------------------------------------------------
async def test_metrics_live_on_the_registry_passed_in(svc: Services, tmp_path: Path) -> None:
    await svc.sor.upsert_products([product(1)])
    first, second = CollectorRegistry(), CollectorRegistry()
    worker = make_worker(svc, tmp_path, registry=first)
    make_worker(svc, tmp_path, registry=second)  # a second worker: no duplicate-series clash
    await worker.start()
    await (await worker.submit([note("S1", 1)]))[0]
    await svc.sor.set_price(TENANT, "S1", Money(amount=Decimal("4.00")))
    await (await worker.submit([note("S1", 2, op="price")]))[0]
    await worker.stop()
    get = first.get_sample_value
    assert get("shopkeeper_changes_applied_total", {"op": "upsert"}) == 1
    assert get("shopkeeper_changes_applied_total", {"op": "price"}) == 1
    assert get("shopkeeper_change_visible_seconds_count", {"op": "price"}) == 1
    assert get("shopkeeper_worker_queue_depth") == 0
    assert get("shopkeeper_worker_lag_seconds") is not None
    assert second.get_sample_value("shopkeeper_changes_applied_total", {"op": "upsert"}) is None
    assert prometheus_client.REGISTRY.get_sample_value("shopkeeper_worker_queue_depth") is None


async def test_stats_and_status_file(svc: Services, tmp_path: Path) -> None:
    status = tmp_path / "status.json"
    worker = build_worker(svc, settings_for(tmp_path), sources=(), status_file=status,
                          warm_model=False)
    assert not worker.running
    await worker.start()
    await asyncio.sleep(0.05)
    stats = worker.stats()
    assert stats["running"] and stats["queue_depth"] == 0 and stats["lag_seconds"] == 0
    assert stats["dlq_size"] == 0 and stats["outbox_pending"] == 0
    assert status.exists()
    await worker.stop()
    import json

    assert json.loads(status.read_text())["running"] is False


async def test_the_write_observer_sees_each_index_write(svc: Services, tmp_path: Path) -> None:
    seen: list[tuple[str, str, Any]] = []
    await svc.sor.upsert_products([product(1), product(2)])
    worker = build_worker(svc, settings_for(tmp_path), sources=(), write_status=False,
                          warm_model=False, on_write=lambda t, s, f: seen.append((t, s, f)))
    await worker.start()
    await asyncio.gather(*await worker.submit([note("S1", 1), note("S2", 2)]))
    await svc.sor.set_price(TENANT, "S1", Money(amount=Decimal("2.50")))
    await svc.sor.delete_sku(TENANT, "S2")
    later = [note("S1", 3, op="price"), note("S2", 4, op="delete")]
    await asyncio.gather(*await worker.submit(later))
    await worker.stop()
    full = {s: f for t, s, f in seen[:2]}
    assert set(full) == {"S1", "S2"} and full["S1"]["content_hash"]  # embedded: whole payload
    # A payload-only patch; version 3 is the SoR's outbox id of the price change.
    assert ("t1", "S1", {"price": 2.5, "currency": "USD", "in_stock": 1, "version": 3,
                         "image_url": None, "url": None}) in seen
    assert ("t1", "S2", None) in seen  # a delete
