"""Query-side retrieval: hybrid (dense + BM25) search with payload filters and exact-code lookup.

Both sides see the shopper's words as typed (appending catalog synonyms to the BM25 query was
measured and hurt: dev nDCG@10 0.785 -> 0.769). Filters run inside the index for every path,
exact lookups included, and exact code matches are merged ahead of the ranked hits here only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opentelemetry.trace import SpanKind

from catalog import EmptyQuery
from catalog.tracing import NO_TRACER, Tracer
from search.embedder import Embedder
from search.fusion import rrf
from search.index.base import Direction, Hit, SearchFilter, VectorIndex
from search.payload import normalise_model
from search.sparse import Bm25Encoder
from search.units import QUANTITY

Mode = Literal["hybrid", "dense", "bm25"]

_CODE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9\-_/.]{2,}$")
_EAN = re.compile(r"^\d{8,14}$")
BOOST_POOL = 50  # hits re-ranked when boosting product types


PAGE_POOL = 20  # sections per leg: a shop's pages have tens of sections, not thousands


@dataclass(frozen=True)
class PageHit:
    """A store page section found for a query: fused rank score, and the dense cosine
    (``relevance``) that says how well it answers, comparable across queries and kinds."""

    key: str
    score: float
    relevance: float
    payload: dict[str, Any] = field(default_factory=dict)


def code_tokens(text: str) -> tuple[list[str], list[str]]:
    """(model-number-like tokens, EAN-like tokens) in a query."""
    models, eans = [], []
    for token in text.replace(",", " ").split():
        token = token.strip("?!.'\"()")
        if QUANTITY.fullmatch(token):  # "16GB" is a size, not a model number
            continue
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
        tracer: Tracer = NO_TRACER,
    ) -> None:
        self.tracer = tracer
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
        with self._span("lookup", codes=len(models) + len(eans)) as span:
            hits = self.index.lookup(
                flt.tenant,
                skus=models + eans,
                model_numbers=[normalise_model(m) for m in models],
                eans=eans,
                flt=flt,
            )
            span.set_attribute("shopkeeper.hits", len(hits))
            return hits

    def _span(self, operation: str, **attrs: Any) -> Any:
        """An index call's client span (the query text stays out: it may hold personal data)."""
        attributes: dict[str, Any] = {"db.system.name": "qdrant", "db.operation.name": operation}
        attributes.update({f"shopkeeper.{k}": v for k, v in attrs.items()})
        return self.tracer.start_as_current_span(f"index {operation}", kind=SpanKind.CLIENT,
                                                 attributes=attributes)

    def ranked(self, query: str, flt: SearchFilter, *, mode: Mode = "hybrid", limit: int = 10
               ) -> list[Hit]:
        """Ranked hits for ``query`` under ``flt``, without the exact-code merge."""
        query = " ".join(query.split())
        if not query:
            raise EmptyQuery("the query is empty; type what you are looking for")
        with self.tracer.start_as_current_span("embed query", attributes={
                "gen_ai.operation.name": "embeddings",
                "gen_ai.request.model": self.embedder.model_id}):
            dense = self.embedder.embed_query(query) if mode in ("hybrid", "dense") else None
            sparse = self.bm25.embed_query(query) if mode in ("hybrid", "bm25") else None
        with self._span("query", mode=mode, limit=limit) as span:
            hits = self.index.query(
                flt,
                dense=dense,
                sparse=sparse,
                limit=limit,
                prefetch_limit=self.prefetch_limit,
                weights=self.weights,
            )
            span.set_attribute("shopkeeper.hits", len(hits))
            return hits

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

    def ordered(self, flt: SearchFilter, *, direction: Direction, limit: int) -> list[Hit]:
        """SKUs under ``flt`` in index price order (for "cheapest"), inside an index span."""
        with self._span("ordered", direction=direction, limit=limit) as span:
            hits = self.index.ordered(flt, direction=direction, limit=limit)
            span.set_attribute("shopkeeper.hits", len(hits))
            return hits

    def query_vector(self, query: str) -> list[float]:
        """The dense query vector, so one embedding serves a page search and a product probe."""
        query = " ".join(query.split())
        if not query:
            raise EmptyQuery("the query is empty; type what you are looking for")
        return list(self.embedder.embed_query(query))

    def pages(self, query: str, tenant: str, limit: int = 3,
              *, dense: Sequence[float] | None = None) -> list[PageHit]:
        """Store page sections for ``query``: dense and BM25 over page points only, fused."""
        vector = list(dense) if dense is not None else self.query_vector(query)
        flt = SearchFilter(tenant, pages=True)
        with self._span("query", target="pages", limit=PAGE_POOL):
            by_dense = self.index.query(flt, dense=vector, limit=PAGE_POOL)
            by_words = self.index.query(
                flt, sparse=self.bm25.embed_query(" ".join(query.split())), limit=PAGE_POOL)
        cosine = {h.sku: h.score for h in by_dense}
        payloads = {h.sku: h.payload for h in (*by_words, *by_dense)}
        fused = rrf([[h.sku for h in by_dense], [h.sku for h in by_words]], self.weights)
        return [PageHit(key, score, cosine.get(key, 0.0), payloads[key])
                for key, score in fused[:limit]]

    def product_relevance(self, tenant: str, dense: Sequence[float]) -> float:
        """The best product's dense cosine for a query vector (0 for an empty catalog)."""
        with self._span("query", target="relevance", limit=1):
            hits = self.index.query(SearchFilter(tenant), dense=list(dense), limit=1)
        return hits[0].score if hits else 0.0
