"""One model call at a time, fed with everything waiting: many small requests become one batch.

Partitions ask for embeddings independently; a model call costs far more per text in small
batches (and two concurrent calls fight over the same cores), so requests that arrive while a
call runs are merged into the next one. The call runs in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class Coalescer(Generic[In, Out]):
    """``submit(items)`` -> future of ``fn(items)``; at most ``max_batch`` items per call."""

    def __init__(
        self, fn: Callable[[Sequence[In]], Sequence[Out]], *, max_batch: int = 256
    ) -> None:
        self._fn = fn
        self._max = max(1, max_batch)
        self._waiting: list[tuple[list[In], asyncio.Future[list[Out]]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.calls = 0
        self.items = 0
        self.seconds = 0.0  # time the function ran: its busy share is seconds / wall time

    def submit(self, items: Sequence[In]) -> asyncio.Future[list[Out]]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[Out]] = loop.create_future()
        self._waiting.append((list(items), fut))
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run(), name="coalesced-embedding")
        return fut

    async def _run(self) -> None:
        while self._waiting:
            batch: list[tuple[list[In], asyncio.Future[list[Out]]]] = []
            size = 0
            while self._waiting and (not batch or size + len(self._waiting[0][0]) <= self._max):
                request = self._waiting.pop(0)
                batch.append(request)
                size += len(request[0])
            flat = [x for items, _ in batch for x in items]
            started = time.monotonic()
            try:
                out = list(await asyncio.to_thread(self._fn, flat))
                self.calls += 1
                self.items += len(flat)
                self.seconds += time.monotonic() - started
            except Exception as exc:  # every requester of this call sees the failure and retries
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            start = 0
            for items, fut in batch:
                if not fut.done():
                    fut.set_result(out[start:start + len(items)])
                start += len(items)
