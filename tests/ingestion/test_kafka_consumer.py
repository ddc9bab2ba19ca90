"""The Kafka (Debezium) consume -> apply -> commit loop, tested at its boundary.

No Kafka broker runs in this environment, so ``FakeConsumer`` below is a small in-process stand-in
for ``aiokafka.AIOKafkaConsumer`` exposing the three methods the loop uses (``getmany``,
``commit``, ``seek``) over in-memory partitions. Everything behind that boundary is real: the
Debezium mapping, the change worker, the SQLite SoR and the embedded Edge index. The ordering
assertions read one shared log that both the fake consumer and the index write to, so "commit
only after the durable index write" is checked on the real flush, not on a mock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cdc_helpers import TENANT, GatedSor, assert_index_equals_sor, product, settings_for, stack
from prometheus_client import CollectorRegistry

from app.wiring import Services, build_worker, worker_config
from catalog.models import Money
from ingestion.sources.kafka import consume_loop, consume_once, run_kafka
from ingestion.worker import ChangeWorker


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass
class Rec:
    offset: int
    value: bytes | None


class FakeConsumer:
    """In-process stand-in for AIOKafkaConsumer (no broker here): positions, commits, seeks."""

    def __init__(self, log: list[str], partitions: dict[TP, list[bytes | None]]) -> None:
        self.log = log
        self.partitions = partitions
        self.position = dict.fromkeys(partitions, 0)
        self.committed: dict[TP, int] = {}

    async def getmany(self, *_: Any, timeout_ms: int = 0, max_records: int | None = None
                      ) -> dict[TP, list[Rec]]:
        out: dict[TP, list[Rec]] = {}
        for tp, values in self.partitions.items():
            start = self.position[tp]
            chunk = values[start:start + (max_records or len(values))]
            if chunk:
                out[tp] = [Rec(start + i, v) for i, v in enumerate(chunk)]
                self.position[tp] = start + len(chunk)
        if not out:
            await asyncio.sleep(timeout_ms / 1000)
        self.log.append("getmany:" + ",".join(f"{tp.partition}@{len(r)}" for tp, r in out.items()))
        return out

    async def commit(self, offsets: Mapping[Any, int] | None = None) -> None:
        assert offsets is not None, "the loop must commit explicit offsets"
        parts = [f"{tp.partition}={o}" for tp, o in sorted(offsets.items())]
        self.log.append("commit:" + ",".join(parts))
        self.committed.update(offsets)

    def seek(self, tp: TP, offset: int) -> None:
        self.log.append(f"seek:{tp.partition}={offset}")
        self.position[tp] = offset


def row(sku: str, *, price: str = "10.00", qty: int = 5) -> dict[str, Any]:
    return {"tenant": TENANT, "sku": sku, "product_id": f"p{sku[1:]}",
            "title": None, "model_number": None, "ean": "[]", "variant_attributes": "{}",
            "image_url": None, "url": None, "price_amount": price, "currency": "USD",
            "stock_qty": qty,
            "availability": "in_stock", "warehouses": "{}", "stock_synthetic": False}


def envelope(
    op: str, lsn: int, before: Any = None, after: Any = None, *, wrap: bool = False
) -> bytes:
    body = {"op": op, "before": before, "after": after, "ts_ms": 1_700_000_000_100,
            "source": {"connector": "postgresql", "lsn": lsn, "ts_ms": 1_700_000_000_000}}
    return json.dumps({"schema": {"type": "struct"}, "payload": body} if wrap else body).encode()


T0, T1 = TP("shop.public.skus", 0), TP("shop.public.skus", 1)


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    async with stack(tmp_path, log=[]) as services:
        yield services


async def started(svc: Services, tmp_path: Path, **overrides: Any) -> ChangeWorker:
    worker = build_worker(svc, settings_for(tmp_path, **overrides), sources=(),
                          registry=CollectorRegistry(), write_status=False, warm_model=False,
                          flush_interval=0.0)
    await worker.start()
    return worker


async def seeded(svc: Services) -> list[bytes | None]:
    """SoR changes, and the Debezium envelopes a connector would publish for them."""
    await svc.sor.upsert_products([product(i) for i in range(1, 4)])
    await svc.sor.set_price(TENANT, "S2", Money(amount=Decimal("7.50")))
    await svc.sor.delete_sku(TENANT, "S3")
    return [
        envelope("r", 100, after=row("S1")),
        envelope("c", 101, after=row("S2"), wrap=True),
        envelope("c", 102, after=row("S3")),
        envelope("u", 103, before=row("S2"), after=row("S2", price="7.50")),
        envelope("d", 104, before=row("S3")),
        None,  # the tombstone Debezium writes after a delete
    ]


def positions(log: list[str], prefix: str) -> list[int]:
    return [i for i, entry in enumerate(log) if entry.startswith(prefix)]


async def test_offsets_are_committed_only_after_the_durable_index_write(
    svc: Services, tmp_path: Path
) -> None:
    log: list[str] = svc.index.log  # type: ignore[attr-defined]
    consumer = FakeConsumer(log, {T0: await seeded(svc)})
    worker = await started(svc, tmp_path)
    assert await consume_once(consumer, worker) == 6
    await worker.stop()
    writes = positions(log, "upsert:") + positions(log, "set_payload:") + positions(log, "delete:")
    [commit] = positions(log, "commit:")
    flushes = positions(log, "flush")
    assert writes and flushes
    assert max(writes) < min(f for f in flushes if f > max(writes)) < commit
    assert log[commit] == "commit:0=6"  # the next offset to read, tombstone included
    await assert_index_equals_sor(svc.sor, svc.index)
    assert svc.index.states(TENANT, ["S2"])["S2"].price == 7.5


async def test_a_failing_write_commits_nothing_and_the_round_is_redelivered(
    svc: Services, tmp_path: Path
) -> None:
    log: list[str] = svc.index.log  # type: ignore[attr-defined]
    consumer = FakeConsumer(log, {T0: await seeded(svc), T1: [envelope("c", 105, after=row("S1"))]})
    svc.index.fail["flush"] = 1  # type: ignore[attr-defined]  # the index cannot persist once
    worker = await started(svc, tmp_path)
    with pytest.raises(RuntimeError, match="injected flush failure"):
        await consume_once(consumer, worker)
    assert positions(log, "commit:") == []
    assert consumer.committed == {}
    assert "seek:0=0" in log and "seek:1=0" in log
    # Redelivered: the same records are applied again (idempotently) and committed this time.
    assert await consume_once(consumer, worker) == 7
    await worker.stop()
    assert consumer.committed == {T0: 6, T1: 1}
    assert positions(log, "flush")[-1] < positions(log, "commit:")[0]
    await assert_index_equals_sor(svc.sor, svc.index)


async def test_a_write_that_keeps_failing_is_dead_lettered_and_committed(
    svc: Services, tmp_path: Path
) -> None:
    """The partition must not block forever: after the retries the event goes to the DLQ."""
    consumer = FakeConsumer(svc.index.log, {T0: await seeded(svc)})  # type: ignore[attr-defined]
    svc.index.poison_skus.add("S2")  # type: ignore[attr-defined]
    worker = await started(svc, tmp_path, WORKER_MAX_ATTEMPTS=2)
    await consume_once(consumer, worker)
    await worker.stop()
    assert consumer.committed == {T0: 6}
    letters = await svc.sor.list_dead_letters()
    assert {d.event["sku"] for d in letters} == {"S2"}
    assert all(d.source == "kafka" and "injected write failure" in d.reason for d in letters)
    assert svc.index.states(TENANT, ["S1"])  # the rest of the round was applied


async def test_when_the_dlq_is_down_too_nothing_is_committed(svc: Services, tmp_path: Path) -> None:
    consumer = FakeConsumer(svc.index.log, {T0: await seeded(svc)})  # type: ignore[attr-defined]

    class DlqDown(GatedSor):
        async def dead_letter(self, *a: Any) -> int:
            raise RuntimeError("dlq down")

    import dataclasses

    svc = dataclasses.replace(svc, sor=DlqDown(svc.sor))  # type: ignore[arg-type]
    svc.index.poison_skus.add("S1")  # type: ignore[attr-defined]
    worker = await started(svc, tmp_path, WORKER_MAX_ATTEMPTS=1)
    with pytest.raises(RuntimeError, match="dlq down"):
        await consume_once(consumer, worker)
    await worker.stop()
    assert consumer.committed == {} and consumer.position[T0] == 0


async def test_undecodable_messages_go_to_the_dlq_and_do_not_block_the_partition(
    svc: Services, tmp_path: Path
) -> None:
    await svc.sor.upsert_products([product(1)])
    consumer = FakeConsumer(svc.index.log, {T0: [  # type: ignore[attr-defined]
        b"\xff\xfe not json",
        envelope("c", 200, after=row("S1")),
        b'{"op": "x", "source": {"lsn": 1, "ts_ms": 1}}',
        json.dumps({"op": "c", "after": {"tenant": TENANT},
                    "source": {"lsn": 3, "ts_ms": 1}}).encode(),
        b"null",
    ]})
    worker = await started(svc, tmp_path)
    await consume_once(consumer, worker)
    await worker.stop()
    assert consumer.committed == {T0: 5}
    letters = await svc.sor.list_dead_letters()
    assert [(d.source, d.event["offset"]) for d in letters] == [
        ("kafka", 0), ("kafka", 2), ("kafka", 3)
    ]
    assert "not JSON" in letters[0].reason
    assert "not one of c, u, d, r" in letters[1].reason
    assert "no 'sku'" in letters[2].reason
    assert svc.index.states(TENANT, ["S1"])


async def test_the_loop_retries_failed_rounds_and_stops_cleanly(
    svc: Services, tmp_path: Path
) -> None:
    log: list[str] = svc.index.log  # type: ignore[attr-defined]
    consumer = FakeConsumer(log, {T0: await seeded(svc)})
    svc.index.fail["flush"] = 1  # type: ignore[attr-defined]
    worker = await started(svc, tmp_path)
    stopping = asyncio.Event()
    loop_task = asyncio.create_task(consume_loop(consumer, worker, stopping, timeout_ms=20))
    for _ in range(500):
        if consumer.committed:
            break
        await asyncio.sleep(0.01)
    stopping.set()
    await asyncio.wait_for(loop_task, 5)
    await worker.stop()
    assert consumer.committed == {T0: 6}
    assert positions(log, "seek:") and positions(log, "seek:")[0] < positions(log, "commit:")[0]


async def test_run_kafka_turns_auto_commit_off(
    svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real consumer is built with enable_auto_commit=False (constructed, never connected)."""
    made: dict[str, Any] = {}

    class Built(FakeConsumer):
        def __init__(self, *topics: str, **kwargs: Any) -> None:
            super().__init__([], {})
            made.update(kwargs, topics=topics)

        async def start(self) -> None:
            made["started"] = True

        async def stop(self) -> None:
            made["stopped"] = True

    monkeypatch.setattr("aiokafka.AIOKafkaConsumer", Built)
    settings = settings_for(tmp_path, KAFKA_BOOTSTRAP="broker:9092")
    worker = await started(svc, tmp_path)
    stopping = asyncio.Event()
    stopping.set()
    await run_kafka(worker_config(settings).kafka, worker, stopping)
    await worker.stop()
    assert made["enable_auto_commit"] is False
    assert made["topics"] == (settings.KAFKA_TOPIC,) and made["group_id"] == settings.KAFKA_GROUP
    assert made["started"] and made["stopped"]
