"""The change worker's facade: builds its collaborators, runs them, and is what sources feed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from catalog import ServiceUnavailable
from catalog.sor import SystemOfRecord
from catalog.tracing import NO_TRACER, Tracer
from ingestion.events import ChangeEvent, Outcome
from ingestion.worker.batches import BatchRunner
from ingestion.worker.config import WorkerConfig
from ingestion.worker.durability import Durability
from ingestion.worker.failures import Retry
from ingestion.worker.index_writes import IndexWrites, WriteObserver
from ingestion.worker.metrics import WorkerMetrics
from ingestion.worker.outcomes import DeadLetters, Item, Outcomes
from ingestion.worker.partitions import Partitions
from ingestion.worker.planning import Planner
from ingestion.worker.shop_writes import ShopWrites
from ingestion.worker.startup import SourceName, run_source, warm_model
from ingestion.worker.status import SorFigures, StatusReporter
from ingestion.writer import IndexWriter

log = logging.getLogger("shopkeeper.worker")

DEFAULT_PARTITIONS = 8


class ChangeWorker:
    """Applies change events to the index with ordering, backpressure, retries and a DLQ."""

    def __init__(
        self,
        sor: SystemOfRecord,
        writer: IndexWriter,
        config: WorkerConfig | None = None,
        *,
        registry: CollectorRegistry | None = None,
        partitions: int = DEFAULT_PARTITIONS,
        sources: Sequence[SourceName] | None = None,
        flush_interval: float = 0.5,
        status_file: Path | None = None,
        write_status: bool = True,
        warm_model: bool = True,
        on_write: WriteObserver | None = None,
        tracer: Tracer = NO_TRACER,
    ) -> None:
        config = config or WorkerConfig()
        self.tracer = tracer
        self.sor = sor
        self.writer = writer
        self.index = writer.index
        self.config = config
        default: tuple[SourceName, ...] = ("outbox", "kafka") if config.kafka else ("outbox",)
        self.source_names = default if sources is None else tuple(sources)
        self.status_file = status_file or config.status_file
        self._warm_model = warm_model
        self._tasks: list[asyncio.Task[Any]] = []
        self._source_tasks: list[asyncio.Task[Any]] = []
        self._stopping: asyncio.Event | None = None
        self._closed = False
        self._started_at: datetime | None = None
        self.metrics = WorkerMetrics(
            registry if registry is not None else CollectorRegistry(),
            queue_depth=lambda: float(self.queue_depth),
            lag_seconds=self.lag_seconds,
        )
        self._figures = SorFigures()
        self._outcomes = Outcomes(self.metrics)
        self._dead_letters = DeadLetters(sor, self._outcomes, self._figures)
        retry = Retry(config.max_attempts)
        self._durability = Durability(
            self.index.flush, self._outcomes, self._dead_letters, min_interval=flush_interval
        )
        self._writes = IndexWrites(
            writer, self._durability, self.metrics, embed_batch=config.embed_batch,
            on_write=on_write, tracer=tracer,
        )
        self._runner = BatchRunner(
            Planner(sor, writer), self._writes, self._durability, self._outcomes,
            self._dead_letters, retry, tracer=tracer,
        )
        self._partitions = Partitions(
            partitions, self._runner, self._outcomes, capacity=config.queue_size,
            batch_size=config.batch_size, batch_ms=config.batch_ms,
        )
        self.n_partitions = self._partitions.n
        self.queue_capacity = self._partitions.capacity
        self._shop_writes = ShopWrites(sor, self._outcomes, self._dead_letters, retry,
                                       tracer=tracer)
        self._status = StatusReporter(
            sor, self._figures, self.stats,
            path=self.status_file if write_status else None, tick=self._durability.prune,
        )

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._tasks) and self._stopping is not None and not self._stopping.is_set()

    async def start(self) -> None:
        """Start partitions, the flusher, the status refresher and the configured sources."""
        if self._tasks:
            return
        self._outcomes.start()
        self._stopping = asyncio.Event()
        self._shop_writes.start()
        self._started_at = datetime.now(UTC)
        spawn = asyncio.get_running_loop().create_task
        self._tasks = [*self._partitions.start()]
        self._tasks.append(spawn(self._durability.flusher.run(), name="worker-flusher"))
        self._tasks.append(spawn(self._status.run(), name="worker-status"))
        if self._warm_model:
            self._tasks.append(spawn(warm_model(self.writer), name="worker-warm-model"))
        for name in self.source_names:
            self._source_tasks.append(spawn(
                run_source(name, self.sor, self, self.config, self._stopping, self.tracer),
                name=f"source-{name}",
            ))
        log.info("change worker started: %d partitions, sources=%s", self.n_partitions,
                 ",".join(self.source_names) or "none")

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop taking new changes, finish and ack what is in flight, then stop (SIGTERM path)."""
        if not self._tasks or self._stopping is None:
            return
        self._stopping.set()
        try:
            async with asyncio.timeout(timeout):
                if self._source_tasks:
                    await asyncio.gather(*self._source_tasks, return_exceptions=True)
                self._closed = True
                await self._outcomes.wait_idle()
                await self._durability.settle()
        except TimeoutError:
            log.warning("worker stop timed out after %.1fs with %d changes in flight; their "
                        "outbox leases expire and they are redelivered",
                        timeout, self._outcomes.depth)
        self._closed = True
        background = [*self._source_tasks, *self._tasks, *self._runner.background]
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        self._source_tasks, self._tasks = [], []
        self._status.write(final=True)
        log.info("change worker stopped")

    async def drain(self, timeout: float = 60.0, *, outbox: bool = True) -> bool:
        """Wait until nothing is queued or in flight (and, with ``outbox``, none is pending)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            settled = not self._outcomes.depth and self._durability.idle
            if settled and (not outbox or await self.sor.pending_changes() == 0):
                return True
            await asyncio.sleep(0.02)
        return False

    # -- intake (the ChangeSink protocol) -------------------------------------------------------
    def partition_of(self, event: ChangeEvent) -> int:
        """Stable across processes (unlike ``hash``), so a SKU always lands on one partition."""
        return self._partitions.partition_of(event)

    async def submit(
        self, events: Iterable[ChangeEvent], *, attempts: Sequence[int] | None = None
    ) -> list[asyncio.Future[Outcome]]:
        """Hand events over; blocks while the partition queue is full (nothing is dropped).

        Notifications return futures that resolve once the index write is durable (sources ack
        then). Writes are applied to the SoR here, in order, before this returns: a returned
        future is already done ("applied", "skipped_stale" or "dead_lettered").
        """
        if self._stopping is None or self._closed:
            raise ServiceUnavailable(
                "the change worker is not running", setting="SHOPKEEPER_WORKER_MODE"
            )
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Outcome]] = []
        for i, event in enumerate(events):
            prior = attempts[i] if attempts is not None else 0
            if event.is_write:
                fut: asyncio.Future[Outcome] = loop.create_future()
                fut.set_result(await self._shop_writes.write(event, prior))
                futures.append(fut)
                continue
            item = Item(event, loop.create_future(), loop.time(), prior)
            self._outcomes.track(item)
            try:
                await self._partitions.put(item)
            except BaseException:  # the producer gave up while blocked: it was never queued
                self._outcomes.forget(item)
                raise
            futures.append(item.future)
        return futures

    async def dead_letter_raw(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> None:
        """For sources: an undecodable message goes to the DLQ as it came, with its reason."""
        await self._dead_letters.park_raw(source, event, reason, attempts)

    # -- status ---------------------------------------------------------------------------------
    @property
    def queue_depth(self) -> int:
        """Events queued or in flight (submitted, not yet durable and acked)."""
        return self._outcomes.depth

    def lag_seconds(self) -> float:
        """Age of the oldest change not yet applied: in memory, or pending in the outbox."""
        oldest = self._outcomes.oldest()
        mem = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        return max(0.0, mem, self._figures.outbox_lag)

    def stats(self) -> dict[str, Any]:
        """Cheap, cached figures for ``/ready``, ``shopkeeper status`` and the status file."""
        flusher, embedder = self._durability.flusher, self._writes.embedder
        outcomes = self._outcomes
        return {
            "running": self.running,
            "sources": list(self.source_names),
            "partitions": self.n_partitions,
            "queue_depth": self.queue_depth,
            "queue_capacity": self.queue_capacity,
            "lag_seconds": round(self.lag_seconds(), 3),
            "outbox_pending": self._figures.outbox_pending,
            "dlq_size": self._figures.dlq_size,
            "flushes": flusher.flushes,
            "flush_seconds": round(flusher.seconds, 3),
            "flush_longest_ms": round(flusher.longest * 1000, 1),
            "embed_calls": embedder.calls,
            "embedded": embedder.items,
            "embed_seconds": round(embedder.seconds, 3),
            **outcomes.counts,
            "started_at": self._started_at.isoformat() if self._started_at else None,
            "last_applied_at": (
                outcomes.last_applied_at.isoformat() if outcomes.last_applied_at else None
            ),
        }
