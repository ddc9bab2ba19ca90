"""The built-in CDC source: the SoR's outbox table, written by triggers in the same transaction.

Claiming leases the oldest pending row of each SKU (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so
several workers can share one outbox and one SKU's rows are still applied in order. The source
sleeps in ``sor.wait_for_changes`` (LISTEN/NOTIFY on PostgreSQL, a short poll on SQLite).

Guarantee: a row is acked only after the worker's future for it resolved, i.e. after the index
write was flushed (or the event was dead-lettered). A crash before the ack leaves the row leased;
the lease expires and the row is delivered again, and the idempotent apply makes that harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from catalog import InvalidEvent
from catalog.sor import ChangeRow, SystemOfRecord
from catalog.tracing import NO_TRACER, Tracer, batch_parent, context_of, span_traceparent
from ingestion.backoff import backoff_delay
from ingestion.events import ChangeEvent, from_change_row
from ingestion.sources.base import ChangeSink

log = logging.getLogger("shopkeeper.worker.outbox")
IDLE_WAIT_S = 0.5


class OutboxSource:
    """Claim -> submit -> (durable) -> ack; release on failure so the row is retried later."""

    def __init__(
        self,
        sor: SystemOfRecord,
        worker: ChangeSink,
        *,
        claim_limit: int = 128,
        lease_seconds: float = 30.0,
        idle_wait: float = IDLE_WAIT_S,
        tracer: Tracer = NO_TRACER,
    ) -> None:
        self.sor = sor
        self.worker = worker
        self.claim_limit = claim_limit
        self.lease_seconds = lease_seconds
        self.idle_wait = idle_wait
        self.tracer = tracer
        self._spans: dict[int, Span] = {}  # claim span per row in flight (ended when settled)
        self._inflight: dict[int, asyncio.Future[Any]] = {}
        self._done: asyncio.Queue[tuple[int, BaseException | None]] = asyncio.Queue()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until ``stopping``: claim and submit; then wait for in-flight rows and ack them."""
        acker = asyncio.get_running_loop().create_task(self._ack_loop(), name="outbox-acks")
        failures = 0
        try:
            while not stopping.is_set():
                try:
                    claimed = await self._claim_once()
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failures += 1
                    log.warning("outbox claim failed (%d): %s", failures, exc)
                    await _sleep_or_stop(backoff_delay(failures, cap=5.0), stopping)
                    continue
                if not claimed:
                    await self._wait(stopping)
            if self._inflight:
                await asyncio.wait(list(self._inflight.values()))
            await self._done.join()
        finally:
            acker.cancel()
            await asyncio.gather(acker, return_exceptions=True)

    async def _claim_once(self) -> int:
        rows = await self.sor.claim_changes(self.claim_limit, self.lease_seconds)
        rows = [r for r in rows if r.id not in self._inflight]  # lease ran out while queued
        if not rows:
            return 0
        events: list[ChangeEvent] = []
        kept: list[ChangeRow] = []
        for row in rows:
            try:
                event = from_change_row(row)
            except InvalidEvent as exc:
                await self._poison(row, exc)
                continue
            events.append(self._claimed(row, event))
            kept.append(row)
        futures = await self.worker.submit(events, attempts=[r.attempts for r in kept])
        for row, fut in zip(kept, futures, strict=True):
            self._inflight[row.id] = fut
            fut.add_done_callback(partial(self._settled, row.id))
        return len(rows)

    def _claimed(self, row: ChangeRow, event: ChangeEvent) -> ChangeEvent:
        """Open the row's claim span under the commit that wrote it; the event carries the claim
        on, so the worker's embed and index-write spans are its children."""
        span = self.tracer.start_span(
            "outbox claim", context=context_of(row.traceparent), kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "shopkeeper.outbox",
                        "messaging.operation.type": "process",
                        "messaging.message.id": str(row.id), "shopkeeper.change.op": row.op,
                        "shopkeeper.change.attempts": row.attempts})
        if not span.is_recording():
            return event
        self._spans[row.id] = span
        return event.model_copy(update={"traceparent": span_traceparent(span)})

    async def _poison(self, row: ChangeRow, exc: InvalidEvent) -> None:
        """An outbox row that is not even an event (bad op, bad key): DLQ it as is, then ack."""
        raw = {"outbox_id": row.id, "tenant": row.tenant, "sku": row.sku, "op": row.op,
               "payload": row.payload, "committed_at": row.committed_at.isoformat()}
        await self.worker.dead_letter_raw("outbox", raw, exc.message, row.attempts + 1)
        self._inflight[row.id] = _done_future()
        self._done.put_nowait((row.id, None))

    def _settled(self, row_id: int, fut: asyncio.Future[Any]) -> None:
        span = self._spans.get(row_id)
        if span is not None:
            if fut.cancelled():
                span.set_status(Status(StatusCode.ERROR, "cancelled"))
            elif fut.exception() is not None:
                span.set_status(Status(StatusCode.ERROR, type(fut.exception()).__name__))
            else:
                span.set_attribute("shopkeeper.change.outcome", str(fut.result()))
            span.end()
        if fut.cancelled():
            self._spans.pop(row_id, None)
            self._inflight.pop(row_id, None)  # shutdown timeout: the lease expires, redelivered
            return
        self._done.put_nowait((row_id, fut.exception()))

    async def _wait(self, stopping: asyncio.Event) -> None:
        """Sleep until the SoR says rows may be claimable, or ``idle_wait`` passes."""
        try:
            await self.sor.wait_for_changes(self.idle_wait)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("outbox wait failed: %s", exc)
            await _sleep_or_stop(self.idle_wait, stopping)

    async def _ack_loop(self) -> None:
        """Ack done rows in groups; release failed ones (attempts + 1) so they are retried."""
        while True:
            first = await self._done.get()
            batch = [first]
            while not self._done.empty():
                batch.append(self._done.get_nowait())
            ok = [rid for rid, exc in batch if exc is None]
            failed = [(rid, exc) for rid, exc in batch if exc is not None]
            if ok:
                with self._ack_span("outbox ack", ok):
                    await self._retry(partial(self.sor.ack_changes, ok), "ack")
            for rid, exc in failed:
                reason = f"{type(exc).__name__}: {exc}"[:500]
                with self._ack_span("outbox release", [rid]):
                    await self._retry(partial(self.sor.release_changes, [rid], error=reason),
                                      "release")
            for rid, _ in batch:
                self._inflight.pop(rid, None)
                self._spans.pop(rid, None)
                self._done.task_done()

    def _ack_span(self, name: str, ids: list[int]) -> Any:
        """One span per ack call: a child of the first traced row's claim, linked to the rest."""
        parents = [span_traceparent(s) for s in (self._spans.get(i) for i in ids) if s is not None]
        parent, links = batch_parent(parents)
        if parent is None:
            return contextlib.nullcontext()
        return self.tracer.start_as_current_span(
            name, context=parent, links=links, kind=SpanKind.INTERNAL,
            attributes={"messaging.system": "shopkeeper.outbox",
                        "messaging.operation.type": "settle",
                        "messaging.batch.message_count": len(ids)})

    async def _retry(self, call: Callable[[], Awaitable[None]], what: str) -> None:
        """Acks must land: retry with backoff while the SoR is away (the lease covers us)."""
        attempt = 0
        while True:
            try:
                await call()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                log.warning("outbox %s failed (%d): %s", what, attempt, exc)
                await asyncio.sleep(backoff_delay(attempt, cap=5.0))


def _done_future() -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    fut.set_result("dead_lettered")
    return fut


async def _sleep_or_stop(seconds: float, stopping: asyncio.Event) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stopping.wait()
    except TimeoutError:
        pass
