"""Bulk ingest: load a catalog into the system of record and the index, idempotently.

Re-running on an unchanged catalog embeds nothing: the SoR upsert writes no rows, and every
chunk's content hash already matches the index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from catalog import InvalidProduct, Product
from catalog.pages import is_page_key
from catalog.sor import SystemOfRecord
from ingestion.chunker import Chunk, chunk_products
from ingestion.writer import IndexWriter, WriteResult
from search import IndexedState, settle_embedder

Progress = Callable[[int], None]


@dataclass
class IngestReport:
    """What one ingest did, for the CLI and the benchmarks."""

    tenant: str
    products: int = 0
    skus: int = 0
    embedded: int = 0
    payload_only: int = 0
    unchanged: int = 0
    deleted: int = 0
    embedder: str = ""
    other_embedder_points: int = 0
    """Points (of any tenant) still holding another embedder's vectors after this ingest."""
    errors: list[InvalidProduct] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def skus_per_second(self) -> float:
        return self.skus / self.seconds if self.seconds else 0.0


def write_chunks(
    writer: IndexWriter,
    chunks: Sequence[Chunk],
    states: Mapping[str, IndexedState],
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> WriteResult:
    """Write chunks in batches against what the index holds (bulk ingest and the eval cache)."""
    total = WriteResult()
    for start in range(0, len(chunks), batch_size):
        batch = chunks[start : start + batch_size]
        total += writer.write(batch, states)
        if progress:
            progress(len(batch))
    return total


async def ingest_products(
    products: Sequence[Product],
    *,
    tenant: str,
    sor: SystemOfRecord,
    writer: IndexWriter,
    batch_size: int = 256,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Write ``products`` to the SoR, then bring the index in step with them.

    With ``prune``, the file is the whole catalog: SKUs it no longer lists are deleted
    from the SoR and the index.
    """
    started = time.perf_counter()
    report = IngestReport(tenant=tenant, products=len(products))
    products = [
        p.model_copy(update={"tenant": tenant}) if p.tenant != tenant else p for p in products
    ]
    for start in range(0, len(products), 1000):
        await sor.upsert_products(products[start : start + 1000])
    versions = await sor.sku_versions(tenant)
    index = writer.index
    states = {s.sku: s for s in index.iter_states(tenant)}
    chunks = list(chunk_products(products, model_id=writer.embedder.model_id, versions=versions))
    report.skus = len(chunks)
    total = write_chunks(writer, chunks, states, batch_size=batch_size, progress=progress)
    if prune:
        listed = {c.sku for c in chunks}
        gone = [sku for sku in states if sku not in listed and not is_page_key(sku)]
        for sku in gone:
            await sor.delete_sku(tenant, sku)
        index.delete(tenant, gone)
        report.deleted = len(gone)
    index.flush()
    if total.embedded > 1000:
        index.optimize()
    report.embedder = writer.embedder.model_id
    report.other_embedder_points = settle_embedder(index, report.embedder)
    report.embedded, report.payload_only, report.unchanged = (
        total.embedded,
        total.payload_only,
        total.unchanged,
    )
    report.seconds = time.perf_counter() - started
    return report
