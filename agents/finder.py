"""The agent's blocking search, shared by the retrieve node and the LLM's search tool.

Named codes are looked up exactly (brand and exclusions applied in the index); the rest is a
hybrid search under the turn's filters, with the exact matches merged ahead by the retriever.
A request sorted by price ("cheapest", "most expensive") first reads the index in price order
under every filter, so the cheapest matching SKU is found even when it ranks low by text.
"""

from __future__ import annotations

from dataclasses import replace

from agents.rules.candidates import search_filter, to_candidate
from agents.rules.relevance import matches_all, product_words
from agents.state import Candidate, Constraints, State, without
from search import Retriever, SearchFilter
from search.index.base import Direction

# Price-ordered SKUs read per turn: bounded, and the live lookup checks each one.
ORDERED_LIMIT = 60


def by_price(retriever: Retriever, tenant: str, state: State, c: Constraints, limit: int
             ) -> list[Candidate]:
    """Price-ordered SKUs under the full filter (category, brand, price, stock, facets) that
    show the product words, ranked in index price order, then the relevance hits after them
    (ranks continue), so a title-only match still competes on its live price."""
    direction: Direction = "asc" if c["sort"] == "price_asc" else "desc"
    strict = search_filter(tenant, c, strict=True)
    hits = retriever.ordered(strict, direction=direction, limit=ORDERED_LIMIT)
    if strict.facets:  # also the SKUs that show the attribute only in their text ("Wireless")
        loose = replace(strict, facets=())
        more = retriever.ordered(loose, direction=direction, limit=ORDERED_LIMIT)
        merged = {h.sku: h for h in [*hits, *more]}.values()
        hits = sorted(merged, key=lambda h: h.score, reverse=direction == "desc")
    query = state.query or state.message
    ordered = matches_all([to_candidate(h, i, exact=False) for i, h in enumerate(hits)],
                          product_words(query, c))
    # The hit's score is its index price: never carried on (only live prices are quoted).
    ordered = [Candidate(**{**x, "rank": i, "score": 0.0, "by_price": True})
               for i, x in enumerate(ordered)]
    seen = {x["sku"] for x in ordered}
    ranked = retriever.search(query, search_filter(tenant, c), limit=limit, exact=[])
    extra = [h for h in ranked if h.sku not in seen]
    return [*ordered, *(to_candidate(h, len(ordered) + i, exact=False)
                        for i, h in enumerate(extra))]


def find(retriever: Retriever, tenant: str, state: State, limit: int) -> list[Candidate]:
    """Blocking search (embedding + index), run in a worker thread by the node."""
    c = without(state.constraints, state.dropped)
    if state.focus:
        hits = retriever.index.lookup(tenant, skus=state.focus)
        return [to_candidate(h, 0, exact=True) for h in hits]
    flt = search_filter(tenant, c)
    # A named product is found whatever its price or category (the answer then says how it
    # fits); only the brand and the SKUs already shown narrow the exact lookup.
    named = SearchFilter(tenant=tenant, brands=c["brands"], exclude_skus=c["exclude"])
    exact = retriever.exact(" ".join(c["codes"]), named) if c["codes"] else []
    if exact and state.intent in ("lookup", "availability", "compare"):
        return [to_candidate(h, 0, exact=True) for h in exact[:limit]]  # lookups are unranked
    if c["sort"] != "relevance" and not exact and state.intent == "search":
        return by_price(retriever, tenant, state, c, limit)
    # A type filter given up (it found nothing) still ranks that type first.
    given_up = state.constraints["product_type"] if "product_type" in state.dropped else None
    boost = c["boost_types"] or ([given_up] if given_up else [])
    hits = retriever.search(state.query or state.message, flt, limit=limit, exact=exact,
                            boost_types=boost)
    seen = {h.sku for h in exact}
    return [to_candidate(h, 0 if h.sku in seen else i, exact=h.sku in seen)
            for i, h in enumerate(hits)]
