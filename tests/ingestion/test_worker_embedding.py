"""Embedding in the change worker: off the event loop, in the background, coalesced into one
model call, and never reordering a SKU's changes.

The embedder is ``cdc_helpers.FakeEmbedder`` with a delay (a slow model without the model); the
SoR and the index are the real SQLite and Edge.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from cdc_helpers import (
    TENANT,
    FakeEmbedder,
    make_worker,
    note,
    product,
    stack,
)


# -- the event loop stays free --------------------------------------------------------------------
async def test_embedding_runs_off_the_event_loop(tmp_path: Path) -> None:
    """While an embedding holds its thread, the loop still runs other work (no timing)."""
    gate = threading.Event()
    embedder = FakeEmbedder(gate=gate)
    async with stack(tmp_path, embedder=embedder) as svc:
        await svc.sor.upsert_products([product(0), product(1)])
        worker = make_worker(svc, tmp_path)
        await worker.start()
        gate.set()
        await (await worker.submit([note("S0", 1)]))[0]
        gate.clear()
        embedder.entered.clear()
        [pending] = await worker.submit([note("S1", 1)])
        ticks = 0
        while not embedder.entered.is_set():  # the loop keeps turning until the embed starts
            await asyncio.sleep(0.01)
        for _ in range(5):  # ... and while it is blocked inside the model call
            await asyncio.sleep(0)
            ticks += 1
        assert ticks == 5 and not pending.done()
        assert "upsert:S1" not in svc.index.log  # type: ignore[attr-defined]
        gate.set()
        assert await pending == "applied"
        await worker.stop()
    assert "MainThread" not in embedder.threads


# -- embedding in the background ---------------------------------------------------------------
async def test_price_changes_do_not_wait_for_a_slow_embedding(tmp_path: Path) -> None:
    gate = threading.Event()
    embedder = FakeEmbedder(gate=gate)
    async with stack(tmp_path, embedder=embedder) as svc:
        await svc.sor.upsert_products([product(1), product(2)])
        worker = make_worker(svc, tmp_path, partitions=1)  # same partition on purpose
        await worker.start()
        gate.set()
        await asyncio.gather(*await worker.submit([note("S2", 1)]))  # indexed, then re-priced
        gate.clear()
        await svc.sor.upsert_products([product(1, title="Renamed"), product(2, price="3.00")])
        [content, price] = await worker.submit([note("S1", 10), note("S2", 11, op="price")])
        await asyncio.wait_for(price, 20)  # applied while the content change is held
        assert not content.done()  # still embedding
        assert svc.index.states(TENANT, ["S2"])["S2"].price == 3.0
        gate.set()
        assert await content == "applied"
        await worker.stop()


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
