"""Group commit for the index: many batches share one ``flush()``, and nobody acks before it.

``flush()`` on the embedded index costs 10-400 ms (disk-bound) and holds the GIL while it runs,
so flushing after every micro-batch would stall the event loop. Writes are numbered by
*generation* (the flush that will cover them); a waiter asks for its generation and is released
when that flush completes. A change whose SKU has no unflushed write waits for nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class GroupFlusher:
    """Coalesces flushes; one runs at a time, in a thread, at most every ``min_interval``."""

    def __init__(self, flush: Callable[[], None], *, min_interval: float = 0.0) -> None:
        self._flush = flush
        self._min_interval = min_interval
        self._gen = 1  # the generation the next flush covers; writes made now belong to it
        self.durable = 0  # the highest generation whose flush completed
        self._last_dirty = 0
        self._flushing = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wanted: asyncio.Event | None = None
        self._last = 0.0
        self.flushes = 0
        self.seconds = 0.0  # total time spent flushing (the event loop is mostly stalled then)
        self.longest = 0.0

    def mark_dirty(self) -> int:
        """Call right after a write; returns the generation whose flush makes it durable."""
        self._last_dirty = self._gen
        return self._gen

    def wait_for(self, generation: int) -> asyncio.Future[None]:
        """A future that resolves once ``generation`` is flushed (at once if it already is)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if generation <= self.durable:
            fut.set_result(None)
        else:
            self._waiters.append((generation, fut))
            if self._wanted is not None:
                self._wanted.set()
        return fut

    def request(self) -> asyncio.Future[None]:
        """A future that resolves when every write made so far is durable."""
        return self.wait_for(self._last_dirty)

    @property
    def idle(self) -> bool:
        return self._last_dirty <= self.durable and not self._waiters and not self._flushing

    async def run(self) -> None:
        """The flusher task: flush whenever someone waits, at most every ``min_interval``."""
        self._wanted = asyncio.Event()
        if self._waiters:
            self._wanted.set()
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            wait = self._last + self._min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.flush_now()
            if any(g > self.durable for g, _ in self._waiters):
                self._wanted.set()

    async def flush_now(self) -> None:
        """Flush once, covering every write so far; a failure fails exactly those waiters."""
        covered = self._gen
        self._gen += 1
        self._flushing = True
        error: BaseException | None = None
        started = time.monotonic()
        try:
            await asyncio.to_thread(self._flush)
            self.flushes += 1
            self.durable = covered
        except Exception as exc:  # the index could not persist: nobody may ack
            error = exc
        finally:
            self._flushing = False
            self._last = time.monotonic()
            self.seconds += self._last - started
            self.longest = max(self.longest, self._last - started)
        keep: list[tuple[int, asyncio.Future[None]]] = []
        for gen, fut in self._waiters:
            if gen > covered:
                keep.append((gen, fut))
            elif not fut.done():
                if error is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(error)
        self._waiters = keep
