"""A Kafka message's W3C traceparent header rides on the events it decodes to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.events import ChangeEvent, Outcome
from ingestion.sources.kafka import consume_once

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
ROW = {"tenant": "t1", "sku": "S1", "product_id": "p1", "price_amount": "10.00",
       "currency": "USD", "stock_qty": 5, "availability": "in_stock"}


def envelope(lsn: int) -> bytes:
    return json.dumps({"op": "c", "before": None, "after": ROW, "ts_ms": 1_700_000_000_100,
                       "source": {"connector": "postgresql", "lsn": lsn,
                                  "ts_ms": 1_700_000_000_000}}).encode()


@dataclass
class Rec:
    offset: int
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()


@dataclass
class OneBatch:
    """Hands out its records once, as ``getmany`` would; records commits."""

    records: list[Rec]
    committed: dict[Any, int] = field(default_factory=dict)

    async def getmany(self, *_: Any, timeout_ms: int = 0, max_records: int | None = None
                      ) -> Mapping[Any, Sequence[Any]]:
        out, self.records = ({"p0": self.records} if self.records else {}), []
        return out

    async def commit(self, offsets: Mapping[Any, int] | None = None) -> None:
        self.committed.update(offsets or {})

    def seek(self, partition: Any, offset: int) -> None:
        raise AssertionError("nothing failed, nothing to redeliver")


@dataclass
class Sink:
    events: list[ChangeEvent] = field(default_factory=list)

    async def submit(self, events: Iterable[ChangeEvent], *, attempts: Sequence[int] | None = None
                     ) -> list[asyncio.Future[Outcome]]:
        futures = []
        for event in events:
            self.events.append(event)
            fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            fut.set_result("applied")
            futures.append(fut)
        return futures

    async def dead_letter_raw(self, source: str, event: dict[str, Any], reason: str,
                              attempts: int) -> None:
        raise AssertionError(reason)


async def test_the_traceparent_header_is_carried_and_a_bad_one_is_ignored() -> None:
    consumer = OneBatch([
        Rec(0, envelope(100), [("traceparent", TRACEPARENT.encode())]),
        Rec(1, envelope(101), [("traceparent", b"not-a-trace")]),
        Rec(2, envelope(102)),
    ])
    sink = Sink()
    assert await consume_once(consumer, sink) == 3
    assert [e.traceparent for e in sink.events] == [TRACEPARENT, None, None]
    assert consumer.committed == {"p0": 3}
