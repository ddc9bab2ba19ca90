"""Shop writes (webhook, file) applied to the SoR in order, stale versions skipped by a memory mark.

The SoR's triggers then append outbox rows in the same transaction, and the outbox path brings
the index in step: one route into the index, acked only after a durable write. This module is
the worker's only knowledge of how a write reaches the SoR and which versions are stale, so a
durable version guard inside the SoR can replace ``ShopWrites`` without touching the rest.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from opentelemetry.trace import SpanKind

from catalog import InvalidEvent
from catalog.sor import SystemOfRecord
from catalog.tracing import NO_TRACER, Tracer
from ingestion.events import ChangeEvent, Outcome
from ingestion.worker.failures import Retry
from ingestion.worker.outcomes import DeadLetters, Outcomes

HWM_ENTRIES = 100_000  # keys whose last applied version is remembered (oldest forgotten first)


async def apply_write(sor: SystemOfRecord, event: ChangeEvent) -> None:
    """One SoR write per event; every write is idempotent, so a retried event is harmless.

    Raises ``InvalidEvent`` for a poison event (a price or stock change for an unknown SKU).
    """
    if not event.is_write:
        raise InvalidEvent(f"{event.source} events are notifications, not writes")
    tenant = event.tenant
    if event.op == "upsert":
        await sor.upsert_products([event.product()])
    elif event.op == "delete" and event.entity == "product":
        assert event.product_id is not None  # guaranteed by ChangeEvent validation
        await sor.delete_product(tenant, event.product_id)
    else:
        assert event.sku is not None
        if event.op == "delete":
            await sor.delete_sku(tenant, event.sku)  # deleting a missing SKU is a no-op
        elif event.op == "price":
            if not await sor.set_price(tenant, event.sku, event.price()):
                raise InvalidEvent(f"price event for unknown sku {event.sku!r}")
        elif not await sor.set_stock(tenant, event.sku, event.stock()):
            raise InvalidEvent(f"stock event for unknown sku {event.sku!r}")


class ShopWrites:
    """One write at a time, with retries; a version below its key's last applied one is stale.

    The high-water mark lives in this process's memory: it holds within one run of one process.
    """

    def __init__(
        self, sor: SystemOfRecord, outcomes: Outcomes, dead_letters: DeadLetters, retry: Retry,
        *, tracer: Tracer = NO_TRACER,
    ) -> None:
        self._tracer = tracer
        self._sor = sor
        self._outcomes = outcomes
        self._dead_letters = dead_letters
        self._retry = retry
        self._hwm: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock: asyncio.Lock | None = None

    def start(self) -> None:
        """A fresh lock on the running event loop (the mark survives a restart)."""
        self._lock = asyncio.Lock()

    async def _commit(self, event: ChangeEvent, attempt: int) -> None:
        """The SoR write inside a span: the outbox rows its triggers add carry that span's
        traceparent, so the index write they lead to joins the sender's trace."""
        with self._tracer.start_as_current_span(
            "catalog commit", kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "shopkeeper.outbox",
                        "messaging.operation.type": "send", "shopkeeper.change.op": event.op,
                        "shopkeeper.change.entity": event.entity,
                        "shopkeeper.change.source": event.source,
                        "shopkeeper.change.attempt": attempt},
        ):
            await apply_write(self._sor, event)

    async def write(self, event: ChangeEvent, prior: int = 0) -> Outcome:
        """Apply one shop write to the SoR: "applied", "skipped_stale" or "dead_lettered"."""
        assert self._lock is not None, "ShopWrites.start() first"
        key = (event.tenant, f"{event.entity}:{event.key}")
        async with self._lock:
            if event.version < self._hwm.get(key, -1):
                self._outcomes.count("skipped_stale")
                return "skipped_stale"
            attempt = prior
            while True:
                attempt += 1
                try:
                    await self._commit(event, attempt)
                    break
                except Exception as exc:
                    if self._retry.gives_up(exc, attempt):
                        await self._dead_letters.park_event(event, exc, attempt)
                        return "dead_lettered"
                    self._outcomes.count("retries")
                    await self._retry.pause(attempt)
            self._hwm[key] = event.version
            self._hwm.move_to_end(key)
            if len(self._hwm) > HWM_ENTRIES:
                self._hwm.popitem(last=False)
        self._outcomes.count("applied", op=event.op)
        return "applied"
