"""The small catalog and helpers every VectorIndex contract test shares (fixtures: conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.index.base import IndexPoint, VectorIndex
from search.index.edge import EdgeIndex
from search.index.remote import QdrantClientIndex
from search.payload import point_id
from search.sparse import Bm25Encoder

DIM = 8
BM25 = Bm25Encoder()

# sku, brand, colours, category, model, eans, facets, price, in_stock, text
CATALOG_A: list[tuple[Any, ...]] = [
    ("A1", "HP", ["black"], "ink", "301", ["0001"], ["type=ink", "colour=black"], 20.0, 1,
     "HP 301 black ink cartridge for Deskjet printers"),
    ("A2", "Canon", ["black"], "ink", "pg545", ["0002"], ["type=ink", "colour=black"], 25.0, 0,
     "Canon PG-545 black ink cartridge for Pixma printers"),
    ("A3", "HP", ["cyan", "magenta", "yellow"], "ink", "302", ["0003", "0033"],
     ["type=ink", "colour=tri"], 30.0, 1, "HP 302 tri-colour ink cartridge"),
    ("A4", "Logitech", ["grey"], "mouse", "m185", ["0004"], ["type=mouse"], 15.0, 1,
     "Logitech M185 wireless mouse, grey"),
    ("A5", "Brother", ["black"], "toner", "tn2420", ["0005"], ["type=toner"], 60.0, 0,
     "Brother TN-2420 black toner cartridge, high yield"),
]  # fmt: skip


def basis(i: int, noise: float = 0.05) -> list[float]:
    """Mostly-orthogonal unit-ish vectors: query basis(i) finds doc i first by cosine."""
    return [1.0 if j == i % DIM else noise for j in range(DIM)]


def make_point(tenant: str, row: tuple[Any, ...], i: int, version: int = 1) -> IndexPoint:
    sku, brand, colours, category, model, eans, facets, price, in_stock, text = row
    payload = {
        "tenant": tenant,
        "sku": sku,
        "product_id": f"p-{sku}",
        "brand": brand.lower(),
        "brand_display": brand,
        "colour": colours,
        "category": category,
        "model_number": model,
        "ean": eans,
        "facets": facets,
        "price": price,
        "in_stock": in_stock,
        "content_hash": f"h-{tenant}-{sku}",
        "version": version,
        "text": text,
        "title": text.split(",")[0],
    }
    return IndexPoint(point_id(tenant, sku), basis(i), BM25.embed_documents([text])[0], payload)


POINTS_A = [make_point("a", row, i) for i, row in enumerate(CATALOG_A)]
# Tenant b reuses SKU "A1" with the same text and vector but another price: isolation bait.
POINTS_B = [make_point("b", (*CATALOG_A[0][:7], 99.0, 1, CATALOG_A[0][9]), 0)]


def loaded(kind: str, path: Path) -> VectorIndex:
    """A new index of ``kind`` holding tenants a and b (the fixtures in conftest use it)."""
    idx: VectorIndex
    if kind == "edge":
        idx = EdgeIndex(path)
    else:
        idx = QdrantClientIndex(":memory:", collection="products")
    idx.ensure_collection(DIM)
    idx.upsert(POINTS_A + POINTS_B)
    return idx


def skus(hits: list[Any]) -> list[str]:
    return [h.sku for h in hits]


ALL = basis(0, noise=1.0)  # positive cosine with every doc
