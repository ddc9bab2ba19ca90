"""The agent's blocking search, shared by the retrieve node and the LLM's search tool.

Named codes are looked up exactly (brand and exclusions applied in the index); the rest is a
hybrid search under the turn's filters, with the exact matches merged ahead by the retriever.
"""

from __future__ import annotations

from agents.rules.candidates import search_filter, to_candidate
from agents.state import Candidate, State, without
from search import Retriever, SearchFilter


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
    # A type filter given up (it found nothing) still ranks that type first.
    given_up = state.constraints["product_type"] if "product_type" in state.dropped else None
    boost = c["boost_types"] or ([given_up] if given_up else [])
    hits = retriever.search(state.query or state.message, flt, limit=limit, exact=exact,
                            boost_types=boost)
    seen = {h.sku for h in exact}
    return [to_candidate(h, 0 if h.sku in seen else i, exact=h.sku in seen)
            for i, h in enumerate(hits)]
