"""The change worker on the real SQLite SoR and the real embedded Edge index.

Only the embedding model is replaced (a deterministic hash, see ``cdc_helpers.FakeEmbedder``), so
these run in seconds; failures are injected by thin wrappers around the real components.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
import sqlite3
import time
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
    note,
    product,
    settings_for,
    stack,
)
from prometheus_client import CollectorRegistry

from app.wiring import Services, build_worker
from catalog.models import Money, Stock
from ingestion.backoff import backoff_delay
from ingestion.sources.webhook import parse_batch
from ingestion.worker import ChangeWorker


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    async with stack(tmp_path) as services:
        yield services


def make_worker(svc: Services, tmp_path: Path, *, sources: Any = (), registry: Any = None,
                partitions: int = 4, **overrides: Any) -> ChangeWorker:
    return build_worker(
        svc, settings_for(tmp_path, **overrides), registry=registry or CollectorRegistry(),
        partitions=partitions, sources=sources, write_status=False, warm_model=False,
    )


def raw_sql(svc: Services, statement: str, *args: Any) -> list[Any]:
    """Another program writing to the SoR: the triggers still fill the outbox."""
    conn = sqlite3.connect(svc.sor.path, isolation_level=None)  # type: ignore[attr-defined]
    try:
        return conn.execute(statement, args).fetchall()
    finally:
        conn.close()


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


# -- retries, backoff, DLQ ------------------------------------------------------------------------
def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(5.0, 0.05 * 2 ** (attempt - 1))
        delays = {backoff_delay(attempt, rng=rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert max(backoff_delay(30, rng=rng) for _ in range(50)) <= 5.0


async def test_transient_failures_are_retried_with_backoff_then_applied(
    svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[tuple[int, float]] = []

    def spy(attempt: int, **kw: Any) -> float:
        d = backoff_delay(attempt, **kw)
        delays.append((attempt, d))
        return d

    monkeypatch.setattr("ingestion.worker.failures.backoff_delay", spy)
    await svc.sor.upsert_products([product(1)])
    worker = make_worker(svc, tmp_path, WORKER_MAX_ATTEMPTS=4)
    await worker.start()
    svc.index.fail["upsert"] = 2  # type: ignore[attr-defined]
    outcome = await (await worker.submit([note("S1", 1)]))[0]
    await worker.stop()
    assert outcome == "applied"
    assert [a for a, _ in delays] == [1, 2]
    assert 0.025 <= delays[0][1] <= 0.05 and 0.05 <= delays[1][1] <= 0.1
    assert worker.stats()["retries"] == 2
    assert await svc.sor.count_dead_letters() == 0
    assert svc.index.count(TENANT) == 1


async def test_exhausted_retries_dead_letter_only_the_failing_event(
    svc: Services, tmp_path: Path
) -> None:
    await svc.sor.upsert_products([product(i) for i in range(3)])
    worker = make_worker(svc, tmp_path, partitions=1, WORKER_MAX_ATTEMPTS=3, WORKER_BATCH_MS=50)
    await worker.start()
    svc.index.poison_skus.add("S1")  # type: ignore[attr-defined]
    futures = await worker.submit([note("S0", 1), note("S1", 2), note("S2", 3)])
    outcomes = await asyncio.wait_for(asyncio.gather(*futures), 10)
    assert outcomes == ["applied", "dead_lettered", "applied"]
    [letter] = await svc.sor.list_dead_letters()
    assert letter.source == "outbox" and letter.attempts >= 3
    assert "RuntimeError: injected write failure for ['S1']" in letter.reason
    assert letter.event["sku"] == "S1" and letter.event["event_id"] == "outbox:S1:2:upsert"
    # The worker is still alive and applies what comes next.
    svc.index.poison_skus.clear()  # type: ignore[attr-defined]
    assert await (await worker.submit([note("S1", 4)]))[0] == "applied"
    await worker.stop()
    assert worker.stats()["dead_lettered"] == 1


async def test_malformed_sor_rows_are_poison_and_everything_around_them_is_applied(
    svc: Services, tmp_path: Path
) -> None:
    worker = make_worker(svc, tmp_path, sources=("outbox",), WORKER_BATCH_MS=30)
    await worker.start()
    await svc.sor.upsert_products([product(i) for i in range(6)])
    assert await worker.drain(10)
    # Another program writes rows our models cannot read; good changes surround them.
    await svc.sor.set_price(TENANT, "S0", Money(amount=Decimal("1.00")))
    raw_sql(svc, "UPDATE skus SET variant_attributes = 'not json' WHERE sku = 'S2'")
    await svc.sor.set_price(TENANT, "S1", Money(amount=Decimal("2.00")))
    raw_sql(svc, "UPDATE skus SET price_amount = 'free!' WHERE sku = 'S3'")
    raw_sql(svc, "UPDATE products SET title = '' WHERE product_id = 'p4'")
    await svc.sor.set_stock(TENANT, "S5", Stock(quantity=0))
    assert await worker.drain(10)
    letters = {d.event["sku"]: d for d in await svc.sor.list_dead_letters()}
    assert set(letters) == {"S2", "S3", "S4"}
    assert "JSONDecodeError" in letters["S2"].reason
    assert "InvalidOperation" in letters["S3"].reason  # Decimal('free!')
    assert "ValidationError: title: String should have at least 1" in letters["S4"].reason
    states = svc.index.states(TENANT, ["S0", "S1", "S5"])
    assert (states["S0"].price, states["S1"].price, states["S5"].in_stock) == (1.0, 2.0, 0)
    assert worker.running
    await svc.sor.set_price(TENANT, "S0", Money(amount=Decimal("3.00")))
    assert await worker.drain(10)
    assert svc.index.states(TENANT, ["S0"])["S0"].price == 3.0
    await worker.stop()
    assert await svc.sor.pending_changes() == 0  # poison rows were acked after dead-lettering


async def test_when_even_the_dlq_is_down_nothing_is_acked(svc: Services, tmp_path: Path) -> None:
    await svc.sor.upsert_products([product(1)])

    class NoDlq(GatedSor):
        async def dead_letter(self, *a: Any) -> int:
            raise RuntimeError("dlq down")

    svc = dataclasses.replace(svc, sor=NoDlq(svc.sor))  # type: ignore[arg-type]
    worker = make_worker(svc, tmp_path, WORKER_MAX_ATTEMPTS=2)
    await worker.start()
    svc.index.poison_skus.add("S1")  # type: ignore[attr-defined]
    [fut] = await worker.submit([note("S1", 1)])
    with pytest.raises(RuntimeError, match="dlq down"):
        await asyncio.wait_for(fut, 10)
    await worker.stop()


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


# -- the event loop stays free --------------------------------------------------------------------
async def test_embedding_runs_off_the_event_loop(tmp_path: Path) -> None:
    embedder = FakeEmbedder(delay=0.8)
    async with stack(tmp_path, embedder=embedder) as svc:
        await svc.sor.upsert_products([product(0), product(1)])
        worker = make_worker(svc, tmp_path)
        await worker.start()
        await (await worker.submit([note("S0", 1)]))[0]  # the shard's first write is slower
        gaps: list[float] = []
        stop = False

        async def ticker() -> None:
            last = time.perf_counter()
            # Until the point is written: the index's own flush comes after, and is not embedding.
            while not stop and "upsert:S1" not in svc.index.log:  # type: ignore[attr-defined]
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        assert await (await worker.submit([note("S1", 1)]))[0] == "applied"
        stop = True
        await tick
        await worker.stop()
    assert max(gaps) < 0.4, max(gaps)  # the 0.8 s "embedding" never blocked the loop
    assert "MainThread" not in embedder.threads


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


# -- embedding in the background ---------------------------------------------------------------
async def test_price_changes_do_not_wait_for_a_slow_embedding(tmp_path: Path) -> None:
    embedder = FakeEmbedder(delay=1.0)
    async with stack(tmp_path, embedder=embedder) as svc:
        await svc.sor.upsert_products([product(1), product(2)])
        worker = make_worker(svc, tmp_path, partitions=1)  # same partition on purpose
        await worker.start()
        await asyncio.gather(*await worker.submit([note("S2", 1)]))  # indexed, then re-priced
        await svc.sor.upsert_products([product(1, title="Renamed"), product(2, price="3.00")])
        started = time.perf_counter()
        [content, price] = await worker.submit([note("S1", 10), note("S2", 11, op="price")])
        await asyncio.wait_for(price, 5)
        price_done = time.perf_counter() - started
        assert not content.done()  # still embedding
        assert await content == "applied"
        await worker.stop()
        assert price_done < 0.9, price_done
        assert svc.index.states(TENANT, ["S2"])["S2"].price == 3.0


async def test_a_delete_after_a_pending_embedding_leaves_no_ghost(tmp_path: Path) -> None:
    embedder = FakeEmbedder(delay=0.5)
    async with stack(tmp_path, embedder=embedder) as svc:
        await svc.sor.upsert_products([product(1)])
        worker = make_worker(svc, tmp_path, partitions=1, WORKER_BATCH_MS=1)
        await worker.start()
        [create] = await worker.submit([note("S1", 1, source="kafka")])  # embedding starts
        await asyncio.sleep(0.05)
        await svc.sor.delete_sku(TENANT, "S1")
        [delete] = await worker.submit([note("S1", 2, op="delete", source="kafka")])
        assert await create == "applied"
        assert await delete == "applied"  # it waited for the create's write, then removed it
        await worker.stop()
        assert svc.index.count(TENANT) == 0


async def test_concurrent_embedding_requests_share_one_model_call() -> None:
    from ingestion.worker.coalesce import Coalescer

    calls: list[list[int]] = []

    def double(xs: Any) -> list[int]:
        time.sleep(0.05)
        calls.append(list(xs))
        return [2 * x for x in xs]

    c: Coalescer[int, int] = Coalescer(double, max_batch=5)
    futures = [c.submit([i, i + 100]) for i in range(4)]
    results = await asyncio.gather(*futures)
    assert results == [[2 * i, 2 * i + 200] for i in range(4)]
    # Four requests of two items waiting together: two model calls of four (max_batch 5).
    assert [len(b) for b in calls] == [4, 4]
    late = c.submit([7])
    assert await late == [14] and len(calls) == 3


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
    assert ("t1", "S1", {"price": 2.5, "currency": "USD", "in_stock": 1, "version": 3}) in seen
    assert ("t1", "S2", None) in seen  # a delete
