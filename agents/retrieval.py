"""Query-side retrieval: hybrid (dense + BM25) search with payload filters and exact-code lookup.

Both sides see the shopper's words as typed. Appending catalog synonyms to the BM25 query was
measured and hurt (dev nDCG@10 0.785 -> 0.769), so ``expand_query`` only serves the agent's
relevance check, where recall of a word matters more than its rank.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from catalog.errors import EmptyQuery
from ingestion.embedder import Embedder
from ingestion.index.base import Hit, SearchFilter, VectorIndex, normalise_model
from ingestion.sparse import Bm25Encoder

Mode = Literal["hybrid", "dense", "bm25"]

# Shopper words -> catalog words. Generic retail vocabulary, not tuned to any query file.
SYNONYMS: dict[str, str] = {
    "laptop": "notebook",
    "laptops": "notebooks",
    "earphones": "headphones earbuds",
    "earbuds": "headphones",
    "headset": "headphones",
    "tv": "television",
    "ps4": "playstation 4",
    "ps5": "playstation 5",
    "pc": "computer desktop",
    "cellphone": "smartphone mobile phone",
    "phone": "smartphone mobile",
    "mousepad": "mouse pad",
    "thumb drive": "usb flash drive",
    "pen drive": "usb flash drive",
    "memory stick": "usb flash drive",
    "ssd": "solid state drive",
    "hdd": "hard disk drive",
    "charger": "power adapter",
    "cord": "cable",
    "cords": "cables",
    "screen": "monitor display",
    "wifi": "wireless wi-fi",
    "bluetooth": "bluetooth wireless",
}
_CODE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9\-_/.]{2,}$")
_EAN = re.compile(r"^\d{8,14}$")


def expand_query(text: str) -> str:
    """Append catalog synonyms of the shopper's words (used by the agent's relevance check)."""
    lowered = " " + " ".join(text.lower().split()) + " "
    extra: list[str] = []
    for phrase, synonyms in SYNONYMS.items():
        if f" {phrase} " in lowered and synonyms not in lowered:
            extra.append(synonyms)
    return text if not extra else f"{text} {' '.join(extra)}"


def code_tokens(text: str) -> tuple[list[str], list[str]]:
    """(model-number-like tokens, EAN-like tokens) in a query."""
    models, eans = [], []
    for token in text.replace(",", " ").split():
        token = token.strip("?!.'\"()")
        if _EAN.match(token):
            eans.append(token)
        elif _CODE.match(token):
            models.append(token)
    return models, eans


class Retriever:
    """Search the index for one tenant; built once and shared (embedder and index are heavy)."""

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        bm25: Bm25Encoder,
        *,
        weights: tuple[float, float] = (1.0, 1.0),
        prefetch_limit: int = 100,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.bm25 = bm25
        self.weights = weights
        self.prefetch_limit = prefetch_limit

    def exact(self, query: str, flt: SearchFilter) -> list[Hit]:
        """Hits whose model number, SKU or EAN the query names exactly."""
        models, eans = code_tokens(query)
        if not models and not eans:
            return []
        return self.index.lookup(
            flt.tenant,
            skus=models + eans,
            model_numbers=[normalise_model(m) for m in models],
            eans=eans,
        )

    def search(
        self, query: str, flt: SearchFilter, *, mode: Mode = "hybrid", limit: int = 10
    ) -> list[Hit]:
        """Ranked hits for ``query`` under ``flt``; exact code matches come first."""
        query = " ".join(query.split())
        if not query:
            raise EmptyQuery("the query is empty; type what you are looking for")
        dense = self.embedder.embed_query(query) if mode in ("hybrid", "dense") else None
        sparse = self.bm25.embed_query(query) if mode in ("hybrid", "bm25") else None
        hits = self.index.query(
            flt,
            dense=dense,
            sparse=sparse,
            limit=limit,
            prefetch_limit=self.prefetch_limit,
            weights=self.weights,
        )
        exact = [h for h in self.exact(query, flt) if _passes(h, flt)] if mode == "hybrid" else []
        if not exact:
            return hits
        seen = {h.sku for h in exact}
        return (exact + [h for h in hits if h.sku not in seen])[:limit]


def _passes(hit: Hit, flt: SearchFilter) -> bool:
    """Apply the price/stock/brand prefilters to an exact-lookup hit (lookup ignores them)."""
    p = hit.payload
    if flt.max_price is not None and (p.get("price") or 0) > flt.max_price:
        return False
    if flt.min_price is not None and (p.get("price") or 0) < flt.min_price:
        return False
    if flt.in_stock is not None and p.get("in_stock") != int(flt.in_stock):
        return False
    return not (flt.brands and p.get("brand") not in {b.lower() for b in flt.brands})


def skus_of(hits: Sequence[Hit]) -> list[str]:
    return [h.sku for h in hits]
