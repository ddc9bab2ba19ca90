"""One graph run in its own task, read through a queue.

The answer can then be sent as soon as the last node has spoken, while the thread's checkpoint
is still being written; and a consumer that leaves early cancels the run (and its nodes).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)
_END = object()


class GraphRun:
    """Pumps ``graph.astream(..., stream_mode="updates")`` into a queue from a task of its own."""

    def __init__(self, stream: AsyncIterator[dict[str, Any]],
                 context: contextvars.Context | None = None) -> None:
        """``context``: what the run's task sees (the graph span as current span)."""
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(stream), context=context)

    async def _pump(self, stream: AsyncIterator[dict[str, Any]]) -> None:
        try:
            async for chunk in stream:
                now = time.perf_counter()
                for node, update in chunk.items():
                    self._queue.put_nowait((node, update or {}, now))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to the consumer, who raises it
            self._queue.put_nowait(exc)
        else:
            self._queue.put_nowait(_END)

    async def updates(self) -> AsyncIterator[tuple[str, dict[str, Any], float]]:
        """(node, partial state, when it finished) per node; raises what the run raised."""
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def cancel(self) -> None:
        """Stop the run now (its running node is cancelled) and wait until it has stopped."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


class PendingWrites:
    """Runs whose answer was sent but whose checkpoint is still being written, per thread."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def keep(self, thread_id: str, task: asyncio.Task[None]) -> None:
        self._tasks[thread_id] = task
        task.add_done_callback(lambda t: self._done(thread_id, t))

    def _done(self, thread_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(thread_id) is task:
            del self._tasks[thread_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("saving thread %s failed", thread_id, exc_info=task.exception())

    async def settle(self, thread_id: str | None = None) -> None:
        """Wait for one thread's pending write (or all of them); never raises."""
        tasks = [self._tasks[thread_id]] if thread_id in self._tasks else (
            list(self._tasks.values()) if thread_id is None else [])
        if tasks:
            await asyncio.wait(tasks)
