"""The change worker's failure paths on the real SQLite SoR and Edge index: backoff, retries,
poison isolation and the dead-letter queue.

Failures are injected by thin wrappers around the real components (``cdc_helpers``); only the
embedding model is a deterministic hash.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cdc_helpers import (
    TENANT,
    GatedSor,
    make_worker,
    note,
    product,
    raw_sql,
    stack,
)

from app.wiring import Services
from catalog.models import Money, Stock
from ingestion.backoff import backoff_delay


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    async with stack(tmp_path) as services:
        yield services


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
