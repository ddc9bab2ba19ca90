"""Kafka source: a topic of Debezium envelopes of the ``skus`` table (Debezium -> Kafka setups).

Auto-commit is off. ``consume_loop`` fetches a batch, maps it, hands it to the worker and waits
for every event's future, which resolves only after the index write was flushed (or the event was
dead-lettered); only then does it commit the offsets. If anything failed (the index or the DLQ
was unreachable) it commits nothing and seeks back, so the batch is delivered again:
at-least-once delivery, idempotent apply, exactly-once effect. An undecodable message goes to the
DLQ (source ``kafka``) and its offset is committed with the rest, so a partition never blocks.

``consume_loop`` takes any object with ``getmany``/``commit``/``seek``, so it is tested with an
in-process fake consumer; ``run_kafka`` wires it to aiokafka's ``AIOKafkaConsumer``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from catalog import InvalidEvent
from catalog.tracing import traceparent_header
from ingestion.backoff import backoff_delay
from ingestion.events import ChangeEvent, from_debezium
from ingestion.sources.base import ChangeSink

log = logging.getLogger("shopkeeper.worker.kafka")
MAX_RAW_CHARS = 4000


class Record(Protocol):
    """The parts of aiokafka's ``ConsumerRecord`` we read."""

    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes | None: ...

    # aiokafka's ``headers`` ([(key, bytes)]) are read when present: a W3C ``traceparent``
    # there makes the worker's spans part of the producer's trace.


class Consumer(Protocol):
    """The parts of ``AIOKafkaConsumer`` the loop needs; a fake implements the same three."""

    async def getmany(
        self, *partitions: Any, timeout_ms: int = 0, max_records: int | None = None
    ) -> Mapping[Any, Sequence[Any]]: ...

    async def commit(self, offsets: Mapping[Any, int] | None = None) -> None: ...

    def seek(self, partition: Any, offset: int) -> None: ...


def decode(value: bytes | None, headers: Any = None) -> list[ChangeEvent]:
    """One message's bytes -> events; a tombstone (None) is nothing, garbage ``InvalidEvent``.

    A ``traceparent`` header rides on every event of the message."""
    if value is None:
        return []
    events = _decode(value)
    tp = traceparent_header(headers)
    return [e.model_copy(update={"traceparent": tp}) for e in events] if tp else events


def _decode(value: bytes) -> list[ChangeEvent]:
    try:
        envelope = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"message is not JSON: {exc}") from None
    if envelope is None:
        return []
    return from_debezium(envelope)


async def consume_once(
    consumer: Consumer, worker: ChangeSink, *, timeout_ms: int = 500, max_records: int = 500
) -> int:
    """One fetch -> apply -> commit round; returns records handled. Raises if nothing committed."""
    batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    if not batches:
        return 0
    events: list[ChangeEvent] = []
    commits: dict[Any, int] = {}
    firsts: dict[Any, int] = {}
    try:
        for tp, records in batches.items():
            if not records:
                continue
            firsts[tp] = records[0].offset
            for rec in records:
                try:
                    events.extend(decode(rec.value, getattr(rec, "headers", None)))
                except InvalidEvent as exc:
                    await worker.dead_letter_raw("kafka", _raw(tp, rec), exc.message, 1)
            commits[tp] = records[-1].offset + 1
        futures = await worker.submit(events)
        results = await asyncio.gather(*futures, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise failed[0]
    except Exception:
        for tp, offset in firsts.items():
            consumer.seek(tp, offset)  # redeliver the whole round; nothing was committed
        raise
    if commits:
        await consumer.commit(commits)
    return sum(len(r) for r in batches.values())


async def consume_loop(
    consumer: Consumer, worker: ChangeSink, stopping: asyncio.Event, *,
    timeout_ms: int = 500, max_records: int = 500,
) -> None:
    """Rounds until ``stopping``; a failed round is retried with backoff, the loop never dies."""
    failures = 0
    while not stopping.is_set():
        try:
            await consume_once(consumer, worker, timeout_ms=timeout_ms, max_records=max_records)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            log.warning("kafka round failed (%d), will redeliver: %s", failures, exc)
            await asyncio.sleep(backoff_delay(failures, base=0.2, cap=30.0))


def _raw(tp: Any, rec: Any) -> dict[str, Any]:
    """What the DLQ keeps of an undecodable message: where it was, and its (bounded) text."""
    value = rec.value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)
    return {
        "topic": getattr(tp, "topic", str(tp)),
        "partition": getattr(tp, "partition", None),
        "offset": rec.offset,
        "value": text[:MAX_RAW_CHARS],
    }


@dataclass(frozen=True)
class KafkaConfig:
    """Where the Debezium topic is and which consumer group commits its offsets."""

    bootstrap: str
    topic: str = "shopkeeper.catalog.changes"
    group: str = "shopkeeper-indexer"


async def run_kafka(config: KafkaConfig, worker: ChangeSink, stopping: asyncio.Event) -> None:
    """Consume ``config.topic`` as ``config.group`` from ``config.bootstrap`` until ``stopping``."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        config.topic,
        bootstrap_servers=config.bootstrap,
        group_id=config.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        await consume_loop(consumer, worker, stopping)
    finally:
        await consumer.stop()
