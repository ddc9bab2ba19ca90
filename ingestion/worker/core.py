"""The change worker: keeps the index equal to the system of record, change by change.

How it works
  * **Notifications** (outbox rows, Debezium events) go into ``N`` bounded partition queues by
    ``crc32(tenant, sku) % N``, so one SKU's changes are applied in order; a full queue blocks the
    source (backpressure, nothing dropped).
  * Each partition drains **micro-batches** that close on ``WORKER_BATCH_SIZE`` or
    ``WORKER_BATCH_MS`` after the first event was queued.
  * A batch **re-reads** each SKU from the SoR (the truth) and writes that: the ``IndexWriter``
    embeds only when the content hash changed (in a thread, so the event loop keeps serving),
    price/stock changes patch the payload, a SKU gone from the SoR loses its point. An event whose
    outbox version is below the indexed version is **stale** and skipped.
  * A **group flush** makes the writes durable; only then do the events' futures resolve, and
    only then do sources ack (outbox row done, Kafka offset committed). Delivery is at least
    once; apply is idempotent (re-read + deterministic point ids), so the effect is exactly once.
  * Errors are retried with exponential backoff and jitter; a poison event, or one that failed
    ``WORKER_MAX_ATTEMPTS`` times, goes to the SoR's DLQ with its reason, and the worker goes on.
  * **Writes** from the shop (webhook, file) are applied to the SoR inside ``submit`` in order,
    so its return means "committed or dead-lettered"; the SoR's triggers then feed the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from catalog import InvalidInput, Product, ServiceUnavailable, Sku
from catalog.sor import SystemOfRecord
from ingestion.backoff import backoff_delay
from ingestion.chunker import Chunk, chunk_sku
from ingestion.events import ChangeEvent, Outcome, describe
from ingestion.worker.coalesce import Coalescer
from ingestion.worker.config import WorkerConfig
from ingestion.worker.flusher import GroupFlusher
from ingestion.worker.metrics import WorkerMetrics
from ingestion.worker.shop_writes import apply_write
from ingestion.writer import VOLATILE_PAYLOAD, IndexWriter
from search import IndexedState, IndexPoint

log = logging.getLogger("shopkeeper.worker")

# Called right after an index write returns (searchable from then on): tenant, sku, and the
# payload fields written (None for a delete).
WriteObserver = Callable[[str, str, "dict[str, Any] | None"], None]
SourceName = Literal["outbox", "kafka"]
# Errors that retrying cannot fix: the event (or the SoR row it points at) is malformed.
POISON: tuple[type[BaseException], ...] = (
    InvalidInput, ValidationError, ValueError, TypeError, KeyError, ArithmeticError,
)
DEFAULT_PARTITIONS = 8
HWM_ENTRIES = 100_000
# Edge's flush() holds the GIL for its whole run (10-400 ms, disk-bound), stalling the event
# loop; group commit with this minimum spacing bounds that cost (writes are visible at once,
# only acks wait for the next flush).
STATUS_FILE = "worker-status.json"
LIVE_FIELDS = ("price", "currency", "in_stock")  # coarse prefilters that search reads


def is_poison(exc: BaseException) -> bool:
    return isinstance(exc, POISON)


def reason_of(exc: BaseException) -> str:
    """One line for the DLQ: our own errors by message, anything else with its type."""
    if isinstance(exc, ValidationError):
        return f"ValidationError: {describe(exc)}"[:500]
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if not isinstance(exc, InvalidInput):
        text = f"{type(exc).__name__}: {text}"
    return " ".join(text.split())[:500]


@dataclass(eq=False)
class _Item:
    """One queued event with the future its source waits on before acking."""

    event: ChangeEvent
    future: asyncio.Future[Outcome]
    enqueued: float
    attempts: int = 0


@dataclass
class _Plan:
    """What one batch will write, and the outcome each item gets once it is durable."""

    outcomes: dict[int, Outcome | BaseException] = field(default_factory=dict)
    chunks: dict[str, list[tuple[Chunk, list[_Item]]]] = field(default_factory=dict)
    states: dict[str, dict[str, IndexedState]] = field(default_factory=dict)
    deletes: dict[str, list[tuple[str, list[_Item]]]] = field(default_factory=dict)
    embed_chunks: list[Chunk] = field(default_factory=list)
    embedding: asyncio.Future[list[IndexPoint]] | None = None


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
    ) -> None:
        config = config or WorkerConfig()
        self.sor = sor
        self.writer = writer
        self.index = writer.index
        self.config = config
        self.n_partitions = max(1, partitions)
        self.batch_size = max(1, config.batch_size)
        self.batch_s = max(0, config.batch_ms) / 1000
        self.max_attempts = max(1, config.max_attempts)
        self.queue_capacity = max(self.n_partitions, config.queue_size)
        default: tuple[SourceName, ...] = ("outbox", "kafka") if config.kafka else ("outbox",)
        self.source_names = default if sources is None else tuple(sources)
        self.status_file = status_file or config.status_file
        self._write_status_file = write_status and self.status_file is not None
        self._on_write = on_write
        self._warm_model = warm_model
        self._flusher = GroupFlusher(self.index.flush, min_interval=flush_interval)
        self._embedder: Coalescer[Chunk, IndexPoint] = Coalescer(
            writer.embed, max_batch=config.embed_batch
        )
        self._writing: dict[tuple[str, str], asyncio.Task[None]] = {}  # SKUs being embedded
        self._background: set[asyncio.Task[None]] = set()
        self._rng = random.Random()
        self._queues: list[asyncio.Queue[_Item]] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._source_tasks: list[asyncio.Task[Any]] = []
        self._pending: dict[int, datetime] = {}
        self._idle: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._closed = False
        self._write_lock: asyncio.Lock | None = None
        self._hwm: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._unflushed: dict[tuple[str, str], int] = {}  # (tenant, sku) -> flush generation
        self._counts: dict[str, int] = dict.fromkeys(
            ("applied", "skipped_stale", "skipped_unchanged", "dead_lettered", "retries"), 0
        )
        self._dlq_size: int | None = None
        self._outbox_pending: int | None = None
        self._outbox_lag = 0.0
        self._started_at: datetime | None = None
        self._last_applied_at: datetime | None = None
        self.metrics = WorkerMetrics(
            registry if registry is not None else CollectorRegistry(),
            queue_depth=lambda: float(self.queue_depth),
            lag_seconds=self.lag_seconds,
        )

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._tasks) and self._stopping is not None and not self._stopping.is_set()

    async def start(self) -> None:
        """Start partitions, the flusher, the status refresher and the configured sources."""
        if self._tasks:
            return
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._started_at = datetime.now(UTC)
        per_partition = max(1, self.queue_capacity // self.n_partitions)
        self._queues = [asyncio.Queue(per_partition) for _ in range(self.n_partitions)]
        spawn = asyncio.get_running_loop().create_task
        self._tasks = [spawn(self._partition(q), name=f"worker-partition-{i}")
                       for i, q in enumerate(self._queues)]
        self._tasks.append(spawn(self._flusher.run(), name="worker-flusher"))
        self._tasks.append(spawn(self._refresh_loop(), name="worker-status"))
        if self._warm_model:
            self._tasks.append(spawn(self._warm(), name="worker-warm-model"))
        for name in self.source_names:
            self._source_tasks.append(spawn(self._run_source(name), name=f"source-{name}"))
        log.info("change worker started: %d partitions, sources=%s", self.n_partitions,
                 ",".join(self.source_names) or "none")

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop taking new changes, finish and ack what is in flight, then stop (SIGTERM path)."""
        if not self._tasks or self._stopping is None or self._idle is None:
            return
        self._stopping.set()
        try:
            async with asyncio.timeout(timeout):
                if self._source_tasks:
                    await asyncio.gather(*self._source_tasks, return_exceptions=True)
                self._closed = True
                await self._idle.wait()
                if not self._flusher.idle:
                    await self._flusher.request()
        except TimeoutError:
            log.warning("worker stop timed out after %.1fs with %d changes in flight; their "
                        "outbox leases expire and they are redelivered",
                        timeout, len(self._pending))
        self._closed = True
        for task in [*self._source_tasks, *self._tasks, *self._background]:
            task.cancel()
        await asyncio.gather(*self._source_tasks, *self._tasks, *self._background,
                             return_exceptions=True)
        self._source_tasks, self._tasks = [], []
        self._write_status(final=True)
        log.info("change worker stopped")

    async def drain(self, timeout: float = 60.0, *, outbox: bool = True) -> bool:
        """Wait until nothing is queued or in flight (and, with ``outbox``, none is pending)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            settled = not self._pending and self._flusher.idle
            if settled and (not outbox or await self.sor.pending_changes() == 0):
                return True
            await asyncio.sleep(0.02)
        return False

    async def _warm(self) -> None:
        """Load the embedding model in the background; payload-only changes flow meanwhile.

        A daemon thread, not ``to_thread``: a SIGTERM during the load must not wait for it.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[BaseException | None] = loop.create_future()

        def load() -> None:
            error: BaseException | None = None
            try:
                _ = self.writer.embedder.dim
            except Exception as exc:  # reported again, with its setting, on the first embed
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop may be gone at shutdown
                loop.call_soon_threadsafe(_settle, done, error)

        threading.Thread(target=load, name="warm-embedding-model", daemon=True).start()
        error = await done
        if error is None:
            log.info("embedding model loaded")
        else:
            log.warning("embedding model not loaded: %s", error)

    async def _run_source(self, name: SourceName) -> None:
        assert self._stopping is not None
        if name == "outbox":
            from ingestion.sources.outbox import OutboxSource

            await OutboxSource(
                self.sor, self, claim_limit=self.batch_size * 2,
                lease_seconds=self.config.lease_s,
            ).run(self._stopping)
        else:
            from ingestion.sources.kafka import run_kafka

            if self.config.kafka is None:
                raise ServiceUnavailable(
                    "no Kafka configured", setting="SHOPKEEPER_KAFKA_BOOTSTRAP"
                )
            await run_kafka(self.config.kafka, self, self._stopping)

    # -- intake ---------------------------------------------------------------------------------
    def partition_of(self, event: ChangeEvent) -> int:
        """Stable across processes (unlike ``hash``), so a SKU always lands on one partition."""
        return zlib.crc32(f"{event.tenant}\x1f{event.key}".encode()) % self.n_partitions

    async def submit(
        self, events: Iterable[ChangeEvent], *, attempts: Sequence[int] | None = None
    ) -> list[asyncio.Future[Outcome]]:
        """Hand events over; blocks while the partition queue is full (nothing is dropped).

        Notifications return futures that resolve once the index write is durable (sources ack
        then). Writes are applied to the SoR here, in order, before this returns: a returned
        future is already done ("applied", "skipped_stale" or "dead_lettered").
        """
        if self._stopping is None or self._idle is None or self._closed:
            raise ServiceUnavailable(
                "the change worker is not running", setting="SHOPKEEPER_WORKER_MODE"
            )
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Outcome]] = []
        for i, event in enumerate(events):
            prior = attempts[i] if attempts is not None else 0
            if event.is_write:
                fut: asyncio.Future[Outcome] = loop.create_future()
                fut.set_result(await self._write(event, prior))
                futures.append(fut)
                continue
            item = _Item(event, loop.create_future(), loop.time(), prior)
            self._pending[id(item)] = event.committed_at
            self._idle.clear()
            try:
                await self._queues[self.partition_of(event)].put(item)
            except BaseException:  # the producer gave up while blocked: it was never queued
                self._forget(item)
                raise
            futures.append(item.future)
        return futures

    async def _write(self, event: ChangeEvent, prior: int) -> Outcome:
        """Apply one shop write to the SoR with retries; stale versions are skipped."""
        assert self._write_lock is not None
        key = (event.tenant, f"{event.entity}:{event.key}")
        async with self._write_lock:
            if event.version < self._hwm.get(key, -1):
                self._count("skipped_stale")
                return "skipped_stale"
            attempt = prior
            while True:
                attempt += 1
                try:
                    await apply_write(self.sor, event)
                    break
                except Exception as exc:
                    if is_poison(exc) or attempt >= self.max_attempts:
                        await self._dead_letter_event(event, exc, attempt)
                        return "dead_lettered"
                    self._count("retries")
                    await asyncio.sleep(backoff_delay(attempt, rng=self._rng))
            self._hwm[key] = event.version
            self._hwm.move_to_end(key)
            if len(self._hwm) > HWM_ENTRIES:
                self._hwm.popitem(last=False)
        self._count("applied", op=event.op)
        return "applied"

    # -- partitions -----------------------------------------------------------------------------
    async def _partition(self, queue: asyncio.Queue[_Item]) -> None:
        """Drain micro-batches that close on size, or ``batch_ms`` after the first was queued."""
        loop = asyncio.get_running_loop()
        while True:
            first = await queue.get()
            batch = [first]
            deadline = first.enqueued + self.batch_s
            while len(batch) < self.batch_size:
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
            try:
                await self._run_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not kill the partition: fail these, go on
                log.exception("unexpected error in a change batch")
                for item in batch:
                    self._resolve(item, exc)

    async def _run_batch(self, items: list[_Item], *, inline: bool = False) -> None:
        """Apply with retries; on a poison error or exhausted retries, isolate each item.

        Embedding normally continues in the background (``_complete``) so the partition moves
        on; ``inline`` (used for retries) waits for it here.
        """
        await self._after_pending_writes(items)
        tries = 0
        while True:
            tries += 1
            try:
                plan = await self._apply(items, inline=inline)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                for item in items:
                    item.attempts += 1
                if len(items) > 1 and (is_poison(exc) or tries >= self.max_attempts):
                    for item in items:
                        await self._run_batch([item], inline=True)
                    return
                if len(items) == 1 and (is_poison(exc) or items[0].attempts >= self.max_attempts):
                    await self._dead_letter(items[0], exc)
                    return
                self._count("retries")
                log.warning("change batch failed (try %d), retrying: %s", tries, reason_of(exc))
                attempt = max(tries, *(i.attempts for i in items))
                await asyncio.sleep(backoff_delay(attempt, rng=self._rng))
                continue
            break
        if plan.embedding is None:
            await self._finish(items, plan)
            return
        keys = {(c.tenant, c.sku) for c in plan.embed_chunks}
        waiting = [i for i in items if (i.event.tenant, i.event.sku) in keys]
        await self._finish([i for i in items if (i.event.tenant, i.event.sku) not in keys], plan)
        task = asyncio.get_running_loop().create_task(self._complete(waiting, plan, keys))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        for key in keys:
            self._writing[key] = task

    async def _after_pending_writes(self, items: list[_Item]) -> None:
        """Per-SKU order across the background embedding: a SKU's next event waits for it."""
        current = asyncio.current_task()
        pending = {self._writing[k] for k in ((i.event.tenant, i.event.sku or "") for i in items)
                   if k in self._writing and self._writing[k] is not current}
        if pending:
            await asyncio.wait(pending)

    async def _complete(self, items: list[_Item], plan: _Plan, keys: set[tuple[str, str]]) -> None:
        """Write the embedded points once the model is done; retry inline if it failed."""
        assert plan.embedding is not None
        try:
            try:
                self._store_embedded(plan, await plan.embedding)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the model or the index write failed: the retry path
                log.warning("embedded write failed, retrying %d change(s): %s",
                            len(items), reason_of(exc))
                for item in items:
                    item.attempts += 1
                self._count("retries")
                attempt = max(i.attempts for i in items)
                await asyncio.sleep(backoff_delay(attempt, rng=self._rng))
                await self._run_batch(items, inline=True)
                return
            await self._finish(items, plan)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave the items hanging
            log.exception("unexpected error completing embedded changes")
            for item in items:
                self._resolve(item, exc)
        finally:
            current = asyncio.current_task()
            for key in keys:
                if self._writing.get(key) is current:
                    del self._writing[key]

    async def _apply(self, items: list[_Item], *, inline: bool = False) -> _Plan:
        """Re-read every SKU of the batch from the SoR, write what differs, mark the index dirty."""
        plan = _Plan()
        groups: dict[str, dict[str, list[_Item]]] = {}
        for item in items:
            ev = item.event
            assert ev.sku is not None  # notifications are always SKU events
            groups.setdefault(ev.tenant, {}).setdefault(ev.sku, []).append(item)
        for tenant, by_sku in groups.items():
            await self._plan_tenant(tenant, by_sku, plan)
        await self._write_plan(plan, inline=inline)
        return plan

    async def _plan_tenant(self, tenant: str, by_sku: dict[str, list[_Item]], plan: _Plan) -> None:
        index, sor = self.index, self.sor
        states = index.states(tenant, list(by_sku))
        plan.states[tenant] = states
        live: dict[str, list[_Item]] = {}
        for sku, group in by_sku.items():
            state = states.get(sku)
            fresh = []
            for item in group:
                ev = item.event
                if state is not None and ev.version_is_sor and ev.version < state.version:
                    plan.outcomes[id(item)] = "skipped_stale"
                else:
                    fresh.append(item)
            if fresh:
                live[sku] = fresh
        if not live:
            return
        offers = await sor.get_offers(tenant, list(live))
        model_id = self.writer.embedder.model_id
        for sku, group in live.items():
            state = states.get(sku)
            try:
                product = await sor.get_product_by_sku(tenant, sku)
                if product is None:
                    self._plan_delete(tenant, sku, group, state, plan)
                    continue
                offer = offers.get(sku)
                version = offer.version if offer is not None and offer.version else max(
                    (i.event.version for i in group if i.event.version_is_sor), default=0
                )
                if state is not None and version < state.version:
                    for item in group:  # the index already holds a newer state of this SKU
                        plan.outcomes[id(item)] = "skipped_stale"
                    continue
                sku_row = _only_sku(product, sku)
                chunk = chunk_sku(product, sku_row, model_id=model_id, version=version)
            except POISON as exc:  # the SoR row itself is malformed: dead-letter these events
                for item in group:
                    plan.outcomes[id(item)] = exc
                continue
            plan.chunks.setdefault(tenant, []).append((chunk, group))

    @staticmethod
    def _plan_delete(
        tenant: str, sku: str, group: list[_Item], state: IndexedState | None, plan: _Plan
    ) -> None:
        if state is None:
            for item in group:  # already absent from the index: nothing to do
                plan.outcomes[id(item)] = "skipped_unchanged"
        else:
            plan.deletes.setdefault(tenant, []).append((sku, group))

    async def _write_plan(self, plan: _Plan, *, inline: bool) -> None:
        """Write price/stock patches and deletes now; embed what changed (off the loop)."""
        writer = self.writer
        to_embed: list[Chunk] = []
        payload_only: list[Chunk] = []
        for tenant, pairs in plan.chunks.items():
            embed, patch, _ = writer.plan([c for c, _ in pairs], plan.states[tenant])
            to_embed += embed
            payload_only += patch
        writer.apply([], payload_only)
        for tenant, dels in plan.deletes.items():
            self.index.delete(tenant, [sku for sku, _ in dels])
        self._observe([(c.tenant, c.sku, {k: c.payload[k] for k in VOLATILE_PAYLOAD})
                       for c in payload_only])
        self._observe([(t, sku, None) for t, dels in plan.deletes.items() for sku, _ in dels])
        quick = {(c.tenant, c.sku) for c in payload_only}
        quick.update((t, sku) for t, dels in plan.deletes.items() for sku, _ in dels)
        self._written(quick)
        self._mark_all(plan, quick, "applied")
        embedding = {(c.tenant, c.sku) for c in to_embed}
        self._mark_all(plan, None, "skipped_unchanged", exclude=embedding)
        self._patch_before_embedding(plan, to_embed)
        if to_embed:
            plan.embed_chunks = to_embed
            plan.embedding = self._embedder.submit(to_embed)
            if inline:
                self._store_embedded(plan, await plan.embedding)
                plan.embedding = None

    def _patch_before_embedding(self, plan: _Plan, chunks: list[Chunk]) -> None:
        """Price and stock filters turn right at once, even while the new text is embedded.

        Only the live fields change (not ``version``): the point keeps saying which full
        state it holds, and the embedded upsert that follows replaces it whole.
        """
        for c in chunks:
            state = plan.states[c.tenant].get(c.sku)
            if state is not None and (
                state.price != c.payload["price"] or state.in_stock != c.payload["in_stock"]
            ):
                live = {k: c.payload[k] for k in LIVE_FIELDS}
                self.index.set_payload(c.tenant, c.sku, live)
                self._observe([(c.tenant, c.sku, live)])

    def _store_embedded(self, plan: _Plan, points: list[IndexPoint]) -> None:
        """Upsert freshly embedded points (on the loop: no other write to them can interleave)."""
        self.writer.apply(points, [])
        self._observe([(c.tenant, c.sku, c.payload) for c in plan.embed_chunks])
        keys = {(c.tenant, c.sku) for c in plan.embed_chunks}
        self._written(keys)
        self._mark_all(plan, keys, "applied")

    def _observe(self, writes: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        """Tell the observer (benchmarks, tests) what just became searchable; never fails."""
        if self._on_write is None or not writes:
            return
        for tenant, sku, fields in writes:
            try:
                self._on_write(tenant, sku, fields)
            except Exception:
                log.exception("on_write observer failed")

    def _written(self, keys: set[tuple[str, str]]) -> None:
        """Record which flush makes these SKUs' writes durable (their events wait for it)."""
        if keys:
            generation = self._flusher.mark_dirty()
            for key in keys:
                self._unflushed[key] = generation

    def _mark_all(
        self, plan: _Plan, keys: set[tuple[str, str]] | None, outcome: Outcome,
        *, exclude: Collection[tuple[str, str]] = (),
    ) -> None:
        """Give ``outcome`` to the planned SKUs in ``keys`` (all still undecided when None)."""
        now = datetime.now(UTC)
        groups = [(t, c.sku, g) for t, pairs in plan.chunks.items() for c, g in pairs]
        groups += [(t, sku, g) for t, dels in plan.deletes.items() for sku, g in dels]
        for tenant, sku, group in groups:
            if (tenant, sku) in exclude:
                continue
            if keys is None:
                if id(group[0]) not in plan.outcomes:
                    self._mark(group, outcome, now, plan)
            elif (tenant, sku) in keys:
                self._mark(group, outcome, now, plan)

    def _mark(self, group: list[_Item], outcome: Outcome, now: datetime, plan: _Plan) -> None:
        for item in group:
            plan.outcomes[id(item)] = outcome
            if outcome == "applied":
                seconds = max(0.0, (now - item.event.committed_at).total_seconds())
                self.metrics.visible.labels(item.event.op).observe(seconds)

    async def _finish(self, items: list[_Item], plan: _Plan) -> None:
        """Dead-letter poison items now; resolve the rest once the index write is durable."""
        done: list[tuple[_Item, Outcome]] = []
        for item in items:
            outcome = plan.outcomes.get(id(item), "skipped_unchanged")
            if isinstance(outcome, BaseException):
                item.attempts += 1
                await self._dead_letter(item, outcome)
            else:
                done.append((item, outcome))
        # Each item waits for the flush covering its SKU's last write, and for nothing else:
        # a stale or unchanged event of an already durable SKU is acked at once.
        by_generation: dict[int, list[tuple[_Item, Outcome]]] = {}
        for item, outcome in done:
            key = (item.event.tenant, item.event.sku or "")
            generation = self._unflushed.get(key, 0)
            by_generation.setdefault(generation, []).append((item, outcome))
        for generation, group in by_generation.items():
            self._flusher.wait_for(generation).add_done_callback(partial(self._settle, group))

    def _settle(self, group: list[tuple[_Item, Outcome]], durable: asyncio.Future[None]) -> None:
        error = None if durable.cancelled() else durable.exception()
        for item, outcome in group:
            self._resolve(item, error or outcome)

    # -- outcomes -------------------------------------------------------------------------------
    def _forget(self, item: _Item) -> None:
        self._pending.pop(id(item), None)
        if self._idle is not None and not self._pending:
            self._idle.set()

    def _resolve(self, item: _Item, result: Outcome | BaseException) -> None:
        self._forget(item)
        if item.future.done():
            return
        if isinstance(result, BaseException):
            item.future.set_exception(result)
            return
        self._count(result, op=item.event.op)
        item.future.set_result(result)

    async def _dead_letter(self, item: _Item, exc: BaseException) -> None:
        """Park the event in the DLQ; if even that fails, fail the future so nothing is acked."""
        try:
            await self._dead_letter_event(item.event, exc, item.attempts)
        except Exception as dlq_exc:
            log.error("cannot dead-letter %s: %s", item.event.event_id, reason_of(dlq_exc))
            self._resolve(item, dlq_exc)
            return
        self._forget(item)
        if not item.future.done():
            item.future.set_result("dead_lettered")

    async def _dead_letter_event(
        self, event: ChangeEvent, exc: BaseException, attempts: int
    ) -> None:
        reason = reason_of(exc)
        await self.dead_letter_raw(event.source, event.model_dump(mode="json"), reason, attempts)
        log.warning("dead-lettered %s (%s) after %d attempt(s): %s", event.event_id, event.name,
                    attempts, reason)

    async def dead_letter_raw(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> None:
        """For sources: an undecodable message goes to the DLQ as it came, with its reason."""
        await self.sor.dead_letter(source, event, reason, attempts)
        self._count("dead_lettered", source=source)
        if self._dlq_size is not None:
            self._dlq_size += 1

    def _count(self, what: str, *, op: str = "", source: str = "") -> None:
        self._counts[what] = self._counts.get(what, 0) + 1
        m = self.metrics
        if what == "applied":
            m.applied.labels(op or "unknown").inc()
            self._last_applied_at = datetime.now(UTC)
        elif what == "skipped_stale":
            m.skipped_stale.inc()
        elif what == "skipped_unchanged":
            m.skipped_unchanged.inc()
        elif what == "retries":
            m.retries.inc()
        elif what == "dead_lettered" and source:
            m.dead_lettered.labels(source).inc()

    # -- status ---------------------------------------------------------------------------------
    @property
    def queue_depth(self) -> int:
        """Events queued or in flight (submitted, not yet durable and acked)."""
        return len(self._pending)

    def lag_seconds(self) -> float:
        """Age of the oldest change not yet applied: in memory, or pending in the outbox."""
        now = datetime.now(UTC)
        oldest = min(self._pending.values(), default=None)
        mem = (now - oldest).total_seconds() if oldest is not None else 0.0
        return max(0.0, mem, self._outbox_lag)

    def stats(self) -> dict[str, Any]:
        """Cheap, cached figures for ``/ready``, ``shopkeeper status`` and the status file."""
        return {
            "running": self.running,
            "sources": list(self.source_names),
            "partitions": self.n_partitions,
            "queue_depth": self.queue_depth,
            "queue_capacity": self.queue_capacity,
            "lag_seconds": round(self.lag_seconds(), 3),
            "outbox_pending": self._outbox_pending,
            "dlq_size": self._dlq_size,
            "flushes": self._flusher.flushes,
            "flush_seconds": round(self._flusher.seconds, 3),
            "flush_longest_ms": round(self._flusher.longest * 1000, 1),
            "embed_calls": self._embedder.calls,
            "embedded": self._embedder.items,
            "embed_seconds": round(self._embedder.seconds, 3),
            **self._counts,
            "started_at": self._started_at.isoformat() if self._started_at else None,
            "last_applied_at": self._last_applied_at.isoformat() if self._last_applied_at else None,
        }

    async def _refresh_loop(self, every: float = 1.0) -> None:
        """Refresh the SoR-side figures (DLQ size, outbox backlog) and the status file."""
        sor = self.sor
        while True:
            try:
                self._dlq_size = await sor.count_dead_letters()
                self._outbox_pending = await sor.pending_changes()
                oldest = await sor.oldest_pending_at()
                self._outbox_lag = (
                    (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
                )
            except Exception as exc:  # status is best effort; the SoR may be briefly away
                log.debug("status refresh failed: %s", exc)
            durable = self._flusher.durable
            self._unflushed = {k: g for k, g in self._unflushed.items() if g > durable}
            self._write_status()
            await asyncio.sleep(every)

    def _write_status(self, *, final: bool = False) -> None:
        """A small JSON file so ``shopkeeper status`` (another process) can see the queue."""
        if not self._write_status_file or self.status_file is None:
            return
        try:
            data = {**self.stats(), "pid": os.getpid(), "updated_at": datetime.now(UTC).isoformat()}
            if final:
                data["running"] = False
            self.status_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.status_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self.status_file)
        except OSError as exc:
            log.debug("cannot write %s: %s", self.status_file, exc)


def _settle(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _only_sku(product: Product, sku: str) -> Sku:
    """``get_product_by_sku`` returns the product with just that SKU; find it defensively."""
    for s in product.skus:
        if s.sku == sku:
            return s
    raise ValueError(f"SoR returned product {product.product_id!r} without sku {sku!r}")
