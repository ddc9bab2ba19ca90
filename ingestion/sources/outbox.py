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
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from catalog import InvalidEvent
from catalog.sor import ChangeRow, SystemOfRecord
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
    ) -> None:
        self.sor = sor
        self.worker = worker
        self.claim_limit = claim_limit
        self.lease_seconds = lease_seconds
        self.idle_wait = idle_wait
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
                events.append(from_change_row(row))
                kept.append(row)
            except InvalidEvent as exc:
                await self._poison(row, exc)
        futures = await self.worker.submit(events, attempts=[r.attempts for r in kept])
        for row, fut in zip(kept, futures, strict=True):
            self._inflight[row.id] = fut
            fut.add_done_callback(partial(self._settled, row.id))
        return len(rows)

    async def _poison(self, row: ChangeRow, exc: InvalidEvent) -> None:
        """An outbox row that is not even an event (bad op, bad key): DLQ it as is, then ack."""
        raw = {"outbox_id": row.id, "tenant": row.tenant, "sku": row.sku, "op": row.op,
               "payload": row.payload, "committed_at": row.committed_at.isoformat()}
        await self.worker.dead_letter_raw("outbox", raw, exc.message, row.attempts + 1)
        self._inflight[row.id] = _done_future()
        self._done.put_nowait((row.id, None))

    def _settled(self, row_id: int, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled():
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
                await self._retry(partial(self.sor.ack_changes, ok), "ack")
            for rid, exc in failed:
                reason = f"{type(exc).__name__}: {exc}"[:500]
                await self._retry(partial(self.sor.release_changes, [rid], error=reason), "release")
            for rid, _ in batch:
                self._inflight.pop(rid, None)
                self._done.task_done()

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
