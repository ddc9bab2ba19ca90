"""What a micro-batch must write, decided by re-reading each SKU from the SoR (the truth)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.trace import Link

from catalog import Product, Sku
from catalog.pages import is_page_key
from catalog.sor import SystemOfRecord
from ingestion.chunker import Chunk, chunk_sku
from ingestion.events import Outcome
from ingestion.pages import chunk_section
from ingestion.worker.failures import POISON
from ingestion.worker.outcomes import Item
from ingestion.writer import IndexWriter
from search import IndexedState, IndexPoint


@dataclass
class Plan:
    """What one batch will write, and the outcome each item gets once it is durable."""

    outcomes: dict[int, Outcome | BaseException] = field(default_factory=dict)
    chunks: dict[str, list[tuple[Chunk, list[Item]]]] = field(default_factory=dict)
    states: dict[str, dict[str, IndexedState]] = field(default_factory=dict)
    deletes: dict[str, list[tuple[str, list[Item]]]] = field(default_factory=dict)
    embed_chunks: list[Chunk] = field(default_factory=list)
    embedding: asyncio.Future[list[IndexPoint]] | None = None
    parent: Context | None = None  # the trace the batch's spans join (its first traced change)
    links: list[Link] = field(default_factory=list)  # the other changes' traces

    def groups(self) -> list[tuple[str, str, list[Item]]]:
        """Every planned write as (tenant, sku, the items it settles)."""
        groups = [(t, c.sku, g) for t, pairs in self.chunks.items() for c, g in pairs]
        groups += [(t, sku, g) for t, dels in self.deletes.items() for sku, g in dels]
        return groups


class Planner:
    """Compares the SoR's state of each SKU with the index's: stale, unchanged, write or delete."""

    def __init__(self, sor: SystemOfRecord, writer: IndexWriter) -> None:
        self._sor = sor
        self._writer = writer

    async def plan(self, items: list[Item]) -> Plan:
        """Bulk-read the index states and the SoR for every SKU of the batch."""
        plan = Plan()
        groups: dict[str, dict[str, list[Item]]] = {}
        for item in items:
            ev = item.event
            assert ev.sku is not None  # notifications are always SKU events
            groups.setdefault(ev.tenant, {}).setdefault(ev.sku, []).append(item)
        for tenant, by_sku in groups.items():
            pages = {k: g for k, g in by_sku.items() if is_page_key(k)}
            if pages:  # store page sections travel the same path; they are read from PageStore
                await self._plan_pages(tenant, pages, plan)
            products = {k: g for k, g in by_sku.items() if k not in pages}
            if products:
                await self._plan_tenant(tenant, products, plan)
        return plan

    async def _plan_pages(self, tenant: str, by_key: dict[str, list[Item]], plan: Plan) -> None:
        """Re-read each changed section; the writer then re-embeds only those whose text moved."""
        states = self._writer.index.states(tenant, list(by_key))
        plan.states.setdefault(tenant, {}).update(states)
        try:
            sections = await self._sor.get_page_sections(tenant, list(by_key))
        except POISON as exc:
            for group in by_key.values():
                for item in group:
                    plan.outcomes[id(item)] = exc
            return
        model_id = self._writer.embedder.model_id
        for key, group in by_key.items():
            state = states.get(key)
            version = max((i.event.version for i in group if i.event.version_is_sor), default=0)
            if state is not None and version and version < state.version:
                for item in group:
                    plan.outcomes[id(item)] = "skipped_stale"
                continue
            section = sections.get(key)
            if section is None:
                _plan_delete(tenant, key, group, state, plan)
                continue
            chunk = chunk_section(tenant, section, model_id=model_id, version=version)
            plan.chunks.setdefault(tenant, []).append((chunk, group))

    async def _plan_tenant(self, tenant: str, by_sku: dict[str, list[Item]], plan: Plan) -> None:
        sor = self._sor
        states = self._writer.index.states(tenant, list(by_sku))
        plan.states.setdefault(tenant, {}).update(states)
        live: dict[str, list[Item]] = {}
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
        model_id = self._writer.embedder.model_id
        for sku, group in live.items():
            state = states.get(sku)
            try:
                product = await sor.get_product_by_sku(tenant, sku)
                if product is None:
                    _plan_delete(tenant, sku, group, state, plan)
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


def _plan_delete(
    tenant: str, sku: str, group: list[Item], state: IndexedState | None, plan: Plan
) -> None:
    if state is None:
        for item in group:  # already absent from the index: nothing to do
            plan.outcomes[id(item)] = "skipped_unchanged"
    else:
        plan.deletes.setdefault(tenant, []).append((sku, group))


def _only_sku(product: Product, sku: str) -> Sku:
    """``get_product_by_sku`` returns the product with just that SKU; find it defensively."""
    for s in product.skus:
        if s.sku == sku:
            return s
    raise ValueError(f"SoR returned product {product.product_id!r} without sku {sku!r}")
