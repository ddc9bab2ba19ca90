"""Per-SKU order and backpressure: bounded queues chosen by crc32 of the SKU, drained in batches."""

from __future__ import annotations

import asyncio
import logging
import zlib

from ingestion.events import ChangeEvent
from ingestion.worker.batches import BatchRunner
from ingestion.worker.outcomes import Item, Outcomes

log = logging.getLogger("shopkeeper.worker")


class Partitions:
    """``n`` queues, one task each; a batch closes on ``batch_size`` events or ``batch_ms``."""

    def __init__(
        self, n: int, runner: BatchRunner, outcomes: Outcomes,
        *, capacity: int, batch_size: int, batch_ms: int,
    ) -> None:
        self.n = max(1, n)
        self.capacity = max(self.n, capacity)
        self._batch_size = max(1, batch_size)
        self._batch_s = max(0, batch_ms) / 1000
        self._runner = runner
        self._outcomes = outcomes
        self._queues: list[asyncio.Queue[Item]] = []

    def partition_of(self, event: ChangeEvent) -> int:
        """Stable across processes (unlike ``hash``), so a SKU always lands on one partition."""
        return zlib.crc32(f"{event.tenant}\x1f{event.key}".encode()) % self.n

    def start(self) -> list[asyncio.Task[None]]:
        """Fresh queues on the running loop, and the task that drains each."""
        per_partition = max(1, self.capacity // self.n)
        self._queues = [asyncio.Queue(per_partition) for _ in range(self.n)]
        spawn = asyncio.get_running_loop().create_task
        return [spawn(self._drain(q), name=f"worker-partition-{i}")
                for i, q in enumerate(self._queues)]

    async def put(self, item: Item) -> None:
        """Queue ``item`` on its SKU's partition; blocks while that queue is full."""
        await self._queues[self.partition_of(item.event)].put(item)

    async def _drain(self, queue: asyncio.Queue[Item]) -> None:
        """Run micro-batches for ever; a bug fails its batch's events, never the partition."""
        while True:
            batch = await self._next_batch(queue)
            try:
                await self._runner.run(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not kill the partition: fail these, go on
                log.exception("unexpected error in a change batch")
                for item in batch:
                    self._outcomes.resolve(item, exc)

    async def _next_batch(self, queue: asyncio.Queue[Item]) -> list[Item]:
        """Wait for an event, then take more until the batch is full or its time is up."""
        loop = asyncio.get_running_loop()
        first = await queue.get()
        batch = [first]
        deadline = first.enqueued + self._batch_s
        while len(batch) < self._batch_size:
            if queue.empty():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        batch.append(await queue.get())
                except TimeoutError:
                    break
            else:
                batch.append(queue.get_nowait())
        return batch
