"""The index's three doors: patches and deletes now, live fields before embedding, upserts after."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from opentelemetry.trace import Status, StatusCode

from catalog.tracing import NO_TRACER, Tracer
from ingestion.chunker import Chunk
from ingestion.events import Outcome
from ingestion.worker.coalesce import Coalescer
from ingestion.worker.durability import Durability
from ingestion.worker.metrics import WorkerMetrics
from ingestion.worker.outcomes import Item
from ingestion.worker.planning import Plan
from ingestion.writer import VOLATILE_PAYLOAD, IndexWriter
from search import IndexPoint

log = logging.getLogger("shopkeeper.worker")

# Called right after an index write returns (searchable from then on): tenant, sku, and the
# payload fields written (None for a delete).
WriteObserver = Callable[[str, str, "dict[str, Any] | None"], None]
LIVE_FIELDS = ("price", "currency", "in_stock")  # coarse prefilters that search reads


class IndexWrites:
    """Writes a plan to the index, marks it for the next flush and records each outcome."""

    def __init__(
        self, writer: IndexWriter, durability: Durability, metrics: WorkerMetrics,
        *, embed_batch: int, on_write: WriteObserver | None = None, tracer: Tracer = NO_TRACER,
    ) -> None:
        self._tracer = tracer
        self._writer = writer
        self._index = writer.index
        self._durability = durability
        self._metrics = metrics
        self._on_write = on_write
        self.embedder: Coalescer[Chunk, IndexPoint] = Coalescer(
            writer.embed, max_batch=embed_batch
        )

    async def write(self, plan: Plan, *, inline: bool) -> None:
        """Write price/stock patches and deletes now; embed what changed (off the loop).

        With ``inline`` the embedded upsert is stored before this returns; otherwise
        ``plan.embedding`` is the pending model call and ``store_embedded`` completes it.
        """
        writer = self._writer
        to_embed: list[Chunk] = []
        payload_only: list[Chunk] = []
        for tenant, pairs in plan.chunks.items():
            embed, patch, _ = writer.plan([c for c, _ in pairs], plan.states[tenant])
            to_embed += embed
            payload_only += patch
        n_deletes = sum(len(d) for d in plan.deletes.values())
        with self._span(plan, "index write", len(payload_only) + n_deletes, "update"):
            writer.apply([], payload_only)
            for tenant, dels in plan.deletes.items():
                self._index.delete(tenant, [sku for sku, _ in dels])
        self._observe([(c.tenant, c.sku, {k: c.payload[k] for k in VOLATILE_PAYLOAD})
                       for c in payload_only])
        self._observe([(t, sku, None) for t, dels in plan.deletes.items() for sku, _ in dels])
        quick = {(c.tenant, c.sku) for c in payload_only}
        quick.update((t, sku) for t, dels in plan.deletes.items() for sku, _ in dels)
        self._durability.written(quick)
        self._mark_all(plan, quick, "applied")
        embedding = {(c.tenant, c.sku) for c in to_embed}
        self._mark_all(plan, None, "skipped_unchanged", exclude=embedding)
        self._patch_before_embedding(plan, to_embed)
        if to_embed:
            plan.embed_chunks = to_embed
            plan.embedding = self.embedder.submit(to_embed)
            self._trace_embedding(plan, len(to_embed))
            if inline:
                self.store_embedded(plan, await plan.embedding)
                plan.embedding = None

    def store_embedded(self, plan: Plan, points: list[IndexPoint]) -> None:
        """Upsert freshly embedded points (on the loop: no other write to them can interleave)."""
        with self._span(plan, "index write", len(points), "upsert"):
            self._writer.apply(points, [])
        self._observe([(c.tenant, c.sku, c.payload) for c in plan.embed_chunks])
        keys = {(c.tenant, c.sku) for c in plan.embed_chunks}
        self._durability.written(keys)
        self._mark_all(plan, keys, "applied")

    def _span(self, plan: Plan, name: str, points: int, operation: str) -> Any:
        """A span for one index write, in the trace of the batch's changes."""
        return self._tracer.start_as_current_span(
            name, context=plan.parent, links=plan.links,
            attributes={"db.system.name": "qdrant", "db.operation.name": operation,
                        "shopkeeper.points": points})

    def _trace_embedding(self, plan: Plan, chunks: int) -> None:
        """The model call for this batch's texts, from submit until its vectors are back."""
        assert plan.embedding is not None
        span = self._tracer.start_span(
            "embed", context=plan.parent, links=plan.links,
            attributes={"gen_ai.operation.name": "embeddings",
                        "gen_ai.request.model": self._writer.embedder.model_id,
                        "shopkeeper.chunks": chunks})

        def done(fut: Any) -> None:
            if fut.cancelled() or fut.exception() is not None:
                span.set_status(Status(StatusCode.ERROR, "embedding failed"))
            span.end()

        plan.embedding.add_done_callback(done)

    def _patch_before_embedding(self, plan: Plan, chunks: list[Chunk]) -> None:
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
                self._index.set_payload(c.tenant, c.sku, live)
                self._observe([(c.tenant, c.sku, live)])

    def _observe(self, writes: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        """Tell the observer (benchmarks, tests) what just became searchable; never fails."""
        if self._on_write is None or not writes:
            return
        for tenant, sku, fields in writes:
            try:
                self._on_write(tenant, sku, fields)
            except Exception:
                log.exception("on_write observer failed")

    def _mark_all(
        self, plan: Plan, keys: set[tuple[str, str]] | None, outcome: Outcome,
        *, exclude: Collection[tuple[str, str]] = (),
    ) -> None:
        """Give ``outcome`` to the planned SKUs in ``keys`` (all still undecided when None)."""
        now = datetime.now(UTC)
        for tenant, sku, group in plan.groups():
            if (tenant, sku) in exclude:
                continue
            if keys is None:
                if id(group[0]) not in plan.outcomes:
                    self._mark(group, outcome, now, plan)
            elif (tenant, sku) in keys:
                self._mark(group, outcome, now, plan)

    def _mark(self, group: list[Item], outcome: Outcome, now: datetime, plan: Plan) -> None:
        for item in group:
            plan.outcomes[id(item)] = outcome
            if outcome == "applied":
                seconds = max(0.0, (now - item.event.committed_at).total_seconds())
                self._metrics.visible.labels(item.event.op).observe(seconds)
