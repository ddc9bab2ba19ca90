"""Shop writes (webhook, file) applied to the SoR in order, each behind the SoR's version guard.

The SoR keeps the last applied version of every row and refuses an older write in the same
transaction (``catalog.sor.versions``), so the guard holds across restarts and across any
number of API and worker processes. A refused write changes nothing: no outbox row, so the
index never moves backwards either. The SoR's triggers turn applied writes into outbox rows,
and the outbox path brings the index in step: one route into the index.
"""

from __future__ import annotations

import asyncio
import logging

from opentelemetry.trace import SpanKind

from catalog import InvalidEvent, StaleVersion
from catalog.sor import SystemOfRecord
from catalog.tracing import NO_TRACER, Tracer
from ingestion.events import ChangeEvent, Outcome
from ingestion.worker.failures import Retry
from ingestion.worker.outcomes import DeadLetters, Outcomes

log = logging.getLogger("shopkeeper.worker")


async def apply_write(sor: SystemOfRecord, event: ChangeEvent) -> None:
    """One versioned SoR write per event; idempotent, so a retried event is harmless.

    Raises ``StaleVersion`` when the SoR holds a newer version, and ``InvalidEvent`` for a
    poison event (a price or stock change for an unknown SKU).
    """
    if not event.is_write:
        raise InvalidEvent(f"{event.source} events are notifications, not writes")
    tenant, version = event.tenant, event.version
    if event.op == "upsert":
        await sor.upsert_products([event.product()], version=version)
    elif event.op == "delete" and event.entity == "product":
        assert event.product_id is not None  # guaranteed by ChangeEvent validation
        await sor.delete_product(tenant, event.product_id, version=version)
    else:
        assert event.sku is not None
        if event.op == "delete":
            # Deleting a missing SKU is a no-op that still leaves a tombstone at this version.
            await sor.delete_sku(tenant, event.sku, version=version)
        elif event.op == "price":
            if not await sor.set_price(tenant, event.sku, event.price(), version=version):
                raise InvalidEvent(f"price event for unknown sku {event.sku!r}")
        elif not await sor.set_stock(tenant, event.sku, event.stock(), version=version):
            raise InvalidEvent(f"stock event for unknown sku {event.sku!r}")


class ShopWrites:
    """One write at a time, with retries; a write the SoR refuses as older is stale."""

    def __init__(
        self, sor: SystemOfRecord, outcomes: Outcomes, dead_letters: DeadLetters, retry: Retry,
        *, tracer: Tracer = NO_TRACER,
    ) -> None:
        self._tracer = tracer
        self._sor = sor
        self._outcomes = outcomes
        self._dead_letters = dead_letters
        self._retry = retry
        self._lock: asyncio.Lock | None = None

    def start(self) -> None:
        """A fresh lock on the running event loop (the versions live in the SoR)."""
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
        async with self._lock:
            attempt = prior
            while True:
                attempt += 1
                try:
                    await self._commit(event, attempt)
                    break
                except StaleVersion as exc:
                    log.info("stale %s %s: %s", event.name, event.event_id, exc.message)
                    self._outcomes.count("skipped_stale")
                    return "skipped_stale"
                except Exception as exc:
                    if self._retry.gives_up(exc, attempt):
                        await self._dead_letters.park_event(event, exc, attempt)
                        return "dead_lettered"
                    self._outcomes.count("retries")
                    await self._retry.pause(attempt)
        self._outcomes.count("applied", op=event.op)
        return "applied"
