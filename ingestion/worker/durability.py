"""Ack only after the durable flush: each SKU's last write is tied to the flush that covers it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from functools import partial

from ingestion.events import Outcome
from ingestion.worker.flusher import GroupFlusher
from ingestion.worker.outcomes import DeadLetters, Item, Outcomes


class Durability:
    """Remembers which flush generation makes each SKU durable and releases its events then."""

    def __init__(
        self, flush: Callable[[], None], outcomes: Outcomes, dead_letters: DeadLetters,
        *, min_interval: float,
    ) -> None:
        # Edge's flush() holds the GIL for its whole run (10-400 ms, disk-bound), stalling the
        # event loop; group commit with a minimum spacing bounds that cost (writes are visible
        # at once, only acks wait for the next flush).
        self.flusher = GroupFlusher(flush, min_interval=min_interval)
        self._outcomes = outcomes
        self._dead_letters = dead_letters
        self._unflushed: dict[tuple[str, str], int] = {}  # (tenant, sku) -> flush generation

    @property
    def idle(self) -> bool:
        """No write waits for a flush, and none runs."""
        return self.flusher.idle

    async def settle(self) -> None:
        """Until every write made so far is durable (the graceful stop)."""
        if not self.flusher.idle:
            await self.flusher.request()

    def written(self, keys: set[tuple[str, str]]) -> None:
        """Record which flush makes these SKUs' writes durable (their events wait for it)."""
        if keys:
            generation = self.flusher.mark_dirty()
            for key in keys:
                self._unflushed[key] = generation

    def prune(self) -> None:
        """Forget SKUs whose last write is durable already (keeps the map small)."""
        durable = self.flusher.durable
        self._unflushed = {k: g for k, g in self._unflushed.items() if g > durable}

    async def finish(
        self, items: list[Item], decided: Mapping[int, Outcome | BaseException]
    ) -> None:
        """Dead-letter poison items now; resolve the rest once the index write is durable."""
        done: list[tuple[Item, Outcome]] = []
        for item in items:
            outcome = decided.get(id(item), "skipped_unchanged")
            if isinstance(outcome, BaseException):
                item.attempts += 1
                await self._dead_letters.park(item, outcome)
            else:
                done.append((item, outcome))
        # Each item waits for the flush covering its SKU's last write, and for nothing else:
        # a stale or unchanged event of an already durable SKU is acked at once.
        by_generation: dict[int, list[tuple[Item, Outcome]]] = {}
        for item, outcome in done:
            key = (item.event.tenant, item.event.sku or "")
            generation = self._unflushed.get(key, 0)
            by_generation.setdefault(generation, []).append((item, outcome))
        for generation, group in by_generation.items():
            self.flusher.wait_for(generation).add_done_callback(partial(self._release, group))

    def _release(self, group: list[tuple[Item, Outcome]], durable: asyncio.Future[None]) -> None:
        error = None if durable.cancelled() else durable.exception()
        for item, outcome in group:
            self._outcomes.resolve(item, error or outcome)
