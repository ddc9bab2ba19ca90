"""SystemOfRecord contract, outbox consumers: claim, ack, release, leases and wake-ups."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from catalog.models import Money
from catalog.sor.base import SystemOfRecord
from tests.catalog.sor_support import product, raw, twin


# -- claim / ack / release ----------------------------------------------------------------------
async def test_claim_ack_release_and_lease_expiry(sor: SystemOfRecord) -> None:
    assert await sor.pending_changes() == 0 and await sor.oldest_pending_at() is None
    await sor.upsert_products([product("P1"), product("P2")])
    assert await sor.pending_changes() == 4
    oldest = await sor.oldest_pending_at()
    assert oldest is not None and oldest.tzinfo is not None

    first = await sor.claim_changes(3)
    assert [r.sku for r in first] == ["P1-A", "P1-B", "P2-A"]
    assert [r.id for r in first] == sorted(r.id for r in first)
    assert (await sor.claim_changes(10))[0].sku == "P2-B"  # leased rows are not handed out again
    assert await sor.claim_changes(10) == []

    await sor.release_changes([first[0].id], error="index down")
    again = await sor.claim_changes(10)
    assert [(r.id, r.attempts) for r in again] == [(first[0].id, 1)]
    err = raw(sor, f"SELECT last_error FROM outbox WHERE id = {first[0].id}")
    assert err == [("index down",)]

    await sor.ack_changes([r.id for r in first])
    assert await sor.pending_changes() == 1  # P2-B still leased, not done
    await sor.ack_changes([r.id for r in first])  # idempotent
    assert await sor.pending_changes() == 1

    await sor.upsert_products([product("P3")])
    short = await sor.claim_changes(1, lease_seconds=0.05)
    assert [r.sku for r in short] == ["P3-A"]
    await asyncio.sleep(0.15)
    expired = await sor.claim_changes(1)
    assert [r.id for r in expired] == [short[0].id]  # lease expired: handed out again
    assert expired[0].attempts == 0  # expiry is not a failed attempt


async def test_claims_keep_per_sku_order(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    await sor.set_price("demo", "P1-A", Money(amount=Decimal("1.00")))
    batch = await sor.claim_changes(10)
    assert [(r.sku, r.op) for r in batch] == [("P1-A", "upsert"), ("P1-B", "upsert")]
    assert await sor.claim_changes(10) == []  # P1-A's price row waits for its upsert row
    await sor.release_changes([batch[0].id], error="retry")
    retry = await sor.claim_changes(10)
    assert [(r.sku, r.op) for r in retry] == [("P1-A", "upsert")]
    await sor.ack_changes([r.id for r in batch])
    assert [(r.sku, r.op) for r in await sor.claim_changes(10)] == [("P1-A", "price")]


async def test_concurrent_claimers_never_share_a_row(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product(f"P{i:03d}") for i in range(100)])  # 200 rows
    other = await twin(sor)
    seen: list[int] = []

    async def worker(store: SystemOfRecord) -> None:
        while rows := await store.claim_changes(7):
            seen.extend(r.id for r in rows)
            await asyncio.sleep(0)
            await store.ack_changes([r.id for r in rows])

    try:
        await asyncio.gather(worker(sor), worker(other), worker(sor), worker(other))
    finally:
        await other.close()
    assert len(seen) == 200 and len(set(seen)) == 200
    assert await sor.pending_changes() == 0


# -- wake-ups ---------------------------------------------------------------------------------
async def test_wait_for_changes_wakes_on_write_and_times_out(sor: SystemOfRecord) -> None:
    t0 = time.monotonic()
    await sor.wait_for_changes(0.3)
    assert 0.25 <= time.monotonic() - t0 < 2.0

    other = await twin(sor)
    try:

        async def write_soon() -> None:
            await asyncio.sleep(0.2)
            await other.upsert_products([product("P1")])

        writer = asyncio.create_task(write_soon())
        t0 = time.monotonic()
        await sor.wait_for_changes(10.0)
        elapsed = time.monotonic() - t0
        await writer
    finally:
        await other.close()
    assert 0.15 <= elapsed < 1.5
    assert len(await sor.claim_changes(10)) == 2

    t0 = time.monotonic()
    await sor.wait_for_changes(0.2)  # rows leased by us: nothing claimable, so it waits
    assert time.monotonic() - t0 >= 0.15
