"""Every queued event's fate: its future, the counts and metrics it adds to, or the DLQ."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from catalog.sor import SystemOfRecord
from ingestion.events import ChangeEvent, Outcome
from ingestion.worker.failures import reason_of
from ingestion.worker.metrics import WorkerMetrics
from ingestion.worker.status import SorFigures

log = logging.getLogger("shopkeeper.worker")

COUNTED = ("applied", "skipped_stale", "skipped_unchanged", "dead_lettered", "retries")


@dataclass(eq=False)
class Item:
    """One queued event with the future its source waits on before acking."""

    event: ChangeEvent
    future: asyncio.Future[Outcome]
    enqueued: float
    attempts: int = 0


class Outcomes:
    """The events in flight until their futures resolve; each outcome is counted once."""

    def __init__(self, metrics: WorkerMetrics) -> None:
        self.metrics = metrics
        self.counts: dict[str, int] = dict.fromkeys(COUNTED, 0)
        self.last_applied_at: datetime | None = None
        self._pending: dict[int, datetime] = {}
        self._idle: asyncio.Event | None = None

    def start(self) -> None:
        """A fresh "nothing in flight" signal on the running event loop."""
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def depth(self) -> int:
        """Events submitted and not yet resolved."""
        return len(self._pending)

    def oldest(self) -> datetime | None:
        """Commit time of the oldest event in flight (the worker's own lag)."""
        return min(self._pending.values(), default=None)

    def track(self, item: Item) -> None:
        """Count ``item`` as in flight until it is resolved or forgotten."""
        assert self._idle is not None, "Outcomes.start() first"
        self._pending[id(item)] = item.event.committed_at
        self._idle.clear()

    def forget(self, item: Item) -> None:
        """No longer in flight (resolved, dead-lettered, or never queued)."""
        self._pending.pop(id(item), None)
        if self._idle is not None and not self._pending:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Until nothing is in flight."""
        assert self._idle is not None
        await self._idle.wait()

    def resolve(self, item: Item, result: Outcome | BaseException) -> None:
        """Settle the source's future; an exception means "do not ack, redeliver later"."""
        self.forget(item)
        if item.future.done():
            return
        if isinstance(result, BaseException):
            item.future.set_exception(result)
            return
        self.count(result, op=item.event.op)
        item.future.set_result(result)

    def count(self, what: str, *, op: str = "", source: str = "") -> None:
        """One more ``what`` in ``stats()`` and in the matching Prometheus series."""
        self.counts[what] = self.counts.get(what, 0) + 1
        m = self.metrics
        if what == "applied":
            m.applied.labels(op or "unknown").inc()
            self.last_applied_at = datetime.now(UTC)
        elif what == "skipped_stale":
            m.skipped_stale.inc()
        elif what == "skipped_unchanged":
            m.skipped_unchanged.inc()
        elif what == "retries":
            m.retries.inc()
        elif what == "dead_lettered" and source:
            m.dead_lettered.labels(source).inc()


class DeadLetters:
    """Parks what cannot be applied in the SoR's DLQ with its reason, so the worker goes on."""

    def __init__(self, sor: SystemOfRecord, outcomes: Outcomes, figures: SorFigures) -> None:
        self._sor = sor
        self._outcomes = outcomes
        self._figures = figures

    async def park(self, item: Item, exc: BaseException) -> None:
        """Dead-letter a queued event; if even that fails, fail its future so nothing is acked."""
        try:
            await self.park_event(item.event, exc, item.attempts)
        except Exception as dlq_exc:
            log.error("cannot dead-letter %s: %s", item.event.event_id, reason_of(dlq_exc))
            self._outcomes.resolve(item, dlq_exc)
            return
        self._outcomes.forget(item)
        if not item.future.done():
            item.future.set_result("dead_lettered")

    async def park_event(self, event: ChangeEvent, exc: BaseException, attempts: int) -> None:
        """Dead-letter a decoded event (raises if the DLQ itself is down)."""
        reason = reason_of(exc)
        await self.park_raw(event.source, event.model_dump(mode="json"), reason, attempts)
        log.warning("dead-lettered %s (%s) after %d attempt(s): %s", event.event_id, event.name,
                    attempts, reason)

    async def park_raw(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> None:
        """Dead-letter a message as it came (sources: one that cannot even be decoded)."""
        await self._sor.dead_letter(source, event, reason, attempts)
        self._outcomes.count("dead_lettered", source=source)
        self._figures.dead_lettered()
