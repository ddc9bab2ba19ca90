"""Group commit for the index: many batches share one ``flush()``, and nobody acks before it.

``flush()`` on the embedded index costs 10-70 ms and blocks writers while it runs, so flushing
after every micro-batch would cap throughput. Batches mark the index dirty after writing and
ask for a future that resolves once a flush that *started after their write* has completed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class GroupFlusher:
    """Coalesces flush requests; one flush runs at a time, in a thread, off the event loop."""

    def __init__(self, flush: Callable[[], None], *, min_interval: float = 0.0) -> None:
        self._flush = flush
        self._min_interval = min_interval
        self._dirty = False
        self._next: list[asyncio.Future[None]] = []
        self._current: list[asyncio.Future[None]] | None = None
        self._wanted: asyncio.Event | None = None
        self._last = 0.0
        self.flushes = 0

    def mark_dirty(self) -> None:
        """Call right after a write: later requests wait for a flush that covers it."""
        self._dirty = True

    def request(self) -> asyncio.Future[None]:
        """A future that resolves when every write made so far is durable (at once if it is)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._dirty:
            self._next.append(fut)
            if self._wanted is not None:
                self._wanted.set()
        elif self._current is not None:
            self._current.append(fut)  # writes made so far are in the flush now running
        else:
            fut.set_result(None)
        return fut

    @property
    def idle(self) -> bool:
        return not self._dirty and not self._next and self._current is None

    async def run(self) -> None:
        """The flusher task: flush whenever someone waits, at most every ``min_interval``."""
        self._wanted = asyncio.Event()
        if self._next:
            self._wanted.set()
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            wait = self._last + self._min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.flush_now()

    async def flush_now(self) -> None:
        """Flush once for everyone waiting; a failure fails exactly those waiters."""
        waiters, self._next = self._next, []
        self._current = waiters
        self._dirty = False
        error: BaseException | None = None
        try:
            await asyncio.to_thread(self._flush)
            self.flushes += 1
        except Exception as exc:  # the index could not persist: nobody may ack
            error = exc
            self._dirty = True
        finally:
            self._current = None
            self._last = time.monotonic()
        for w in waiters:
            if not w.done():
                if error is None:
                    w.set_result(None)
                else:
                    w.set_exception(error)
