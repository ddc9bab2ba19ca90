"""Store page sections as index points (one per ``## Section``) and their bulk load.

A section's point sits beside the SKUs under the tenant, keyed like a SKU by its page key
(``page:<page_id>#<anchor>``) and marked ``kind="page"`` so product queries never see it. The
same writer decides re-embedding by content hash, so an unchanged section is never re-embedded.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog import InvalidPage
from catalog.pages import PageSection, is_page_key
from catalog.sor import SystemOfRecord
from ingestion.chunker import Chunk, content_hash
from ingestion.writer import IndexWriter
from search import point_id
from search.payload import PAGE_KIND


def section_text(s: PageSection) -> str:
    """What is embedded: the page and section titles, then the section's own text."""
    return f"{s.page_title}: {s.section}\n{s.text}"


def chunk_section(tenant: str, s: PageSection, *, model_id: str, version: int = 0) -> Chunk:
    """The one chunk of one section; price and stock keys are present (empty) because the
    writer compares them for every point."""
    text = section_text(s)
    digest = content_hash(text, model_id)
    payload: dict[str, Any] = {
        "tenant": tenant, "sku": s.key, "kind": PAGE_KIND, "page_id": s.page_id,
        "page_title": s.page_title, "section": s.section, "anchor": s.anchor, "url": s.url,
        "position": s.position, "demo": 1 if s.demo else 0, "title": s.section,
        "price": None, "currency": None, "in_stock": None, "image_url": None,
        "content_hash": digest, "version": version, "text": text, "body": s.text,
    }
    return Chunk(tenant, s.key, point_id(tenant, s.key), text, digest, payload)


@dataclass
class PagesReport:
    """What one page load did, for the CLI."""

    tenant: str
    sections: int = 0
    written: int = 0
    deleted: int = 0
    embedded: int = 0
    unchanged: int = 0
    errors: list[InvalidPage] = field(default_factory=list)
    seconds: float = 0.0


async def ingest_pages(
    sections: Sequence[PageSection], *, tenant: str, sor: SystemOfRecord, writer: IndexWriter,
    errors: Sequence[InvalidPage] = (),
) -> PagesReport:
    """Make the SoR's pages equal to ``sections`` (the folder is the whole truth), then the
    index equal to the SoR's pages. A page that failed to parse keeps what was stored for it."""
    started = time.perf_counter()
    report = PagesReport(tenant=tenant, errors=list(errors))
    failed = {e.source.rsplit("/", 1)[-1].removesuffix(".md") for e in errors}
    stored = await sor.list_page_sections(tenant)
    kept = [s for s in stored if s.page_id in failed]
    result = await sor.upsert_pages(tenant, [*sections, *kept], prune=True)
    report.written, report.deleted = result.written, result.deleted
    current = await sor.list_page_sections(tenant)
    versions = await sor.page_versions(tenant)
    model_id = writer.embedder.model_id
    chunks = [chunk_section(tenant, s, model_id=model_id, version=versions.get(s.key, 0))
              for s in current]
    index = writer.index
    states = {s.sku: s for s in index.iter_states(tenant) if is_page_key(s.sku)}
    total = writer.write(chunks, states)
    gone = [key for key in states if key not in {c.sku for c in chunks}]
    if gone:
        index.delete(tenant, gone)
    index.flush()
    report.sections = len(chunks)
    report.embedded, report.unchanged = total.embedded, total.unchanged + total.payload_only
    report.seconds = time.perf_counter() - started
    return report
