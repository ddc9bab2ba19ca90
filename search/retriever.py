"""Query-side retrieval: hybrid (dense + BM25) search with payload filters and exact-code lookup.

Both sides see the shopper's words as typed (appending catalog synonyms to the BM25 query was
measured and hurt: dev nDCG@10 0.785 -> 0.769). Filters run inside the index for every path,
exact lookups included, and exact code matches are merged ahead of the ranked hits here only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from catalog import EmptyQuery
from search.embedder import Embedder
from search.index.base import Hit, SearchFilter, VectorIndex
from search.payload import normalise_model
from search.sparse import Bm25Encoder

Mode = Literal["hybrid", "dense", "bm25"]

_CODE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9\-_/.]{2,}$")
_EAN = re.compile(r"^\d{8,14}$")
BOOST_POOL = 50  # hits re-ranked when boosting product types


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


def boosted(hits: Sequence[Hit], types: Sequence[str], limit: int) -> list[Hit]:
    """Hits of the wanted product types first (each group in rank order): a soft type filter
    for when the question's type is a guess, so the rest still show when none is of it."""
    wanted = {t.strip().lower() for t in types if t.strip()}
    if not wanted:
        return list(hits[:limit])
    first = [h for h in hits if h.payload.get("product_type") in wanted]
    return [*first, *(h for h in hits if h.payload.get("product_type") not in wanted)][:limit]


def exact_first(exact: Sequence[Hit], ranked: Sequence[Hit], limit: int) -> list[Hit]:
    """Exact code matches first, then the ranked hits not among them: the one exact merge."""
    seen = {h.sku for h in exact}
    return [*exact, *(h for h in ranked if h.sku not in seen)][:limit]


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
        """Hits whose model number, SKU or EAN the query names exactly, under ``flt``."""
        models, eans = code_tokens(query)
        if not models and not eans:
            return []
        return self.index.lookup(
            flt.tenant,
            skus=models + eans,
            model_numbers=[normalise_model(m) for m in models],
            eans=eans,
            flt=flt,
        )

    def ranked(self, query: str, flt: SearchFilter, *, mode: Mode = "hybrid", limit: int = 10
               ) -> list[Hit]:
        """Ranked hits for ``query`` under ``flt``, without the exact-code merge."""
        query = " ".join(query.split())
        if not query:
            raise EmptyQuery("the query is empty; type what you are looking for")
        dense = self.embedder.embed_query(query) if mode in ("hybrid", "dense") else None
        sparse = self.bm25.embed_query(query) if mode in ("hybrid", "bm25") else None
        return self.index.query(
            flt,
            dense=dense,
            sparse=sparse,
            limit=limit,
            prefetch_limit=self.prefetch_limit,
            weights=self.weights,
        )

    def search(
        self,
        query: str,
        flt: SearchFilter,
        *,
        mode: Mode = "hybrid",
        limit: int = 10,
        exact: Sequence[Hit] | None = None,
        boost_types: Sequence[str] = (),
    ) -> list[Hit]:
        """Ranked hits, exact code matches first: ``exact`` when the caller looked them up,
        else the codes the query names (hybrid mode only). ``boost_types`` re-ranks a wider
        pool so hits of those product types come first."""
        pool = max(limit, BOOST_POOL) if boost_types else limit
        hits = boosted(self.ranked(query, flt, mode=mode, limit=pool), boost_types, limit)
        if exact is None:
            exact = self.exact(query, flt) if mode == "hybrid" else []
        return exact_first(exact, hits, limit) if exact else hits
