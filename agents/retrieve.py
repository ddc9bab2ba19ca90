"""retrieve: hybrid search with payload filters, or exact lookup of named codes and SKUs."""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime

from agents.deps import Context
from agents.retrieval import Retriever
from agents.state import Candidate, Constraints, State, without
from ingestion.index.base import Hit, SearchFilter

# The index price is a stale copy: widen its bounds so a fresh SoR price still decides.
PREFILTER_SLACK = 1.25
DESCRIPTION_CHARS = 300
_LINE = re.compile(r"^(?:- )?([A-Za-z][\w /().&-]{0,40}):\s*(.+)$")
_NOT_SPECS = frozenset({"product", "brand", "category", "description", "technical specifications"})


def parse_chunk(text: str) -> tuple[dict[str, str], str]:
    """(specs, description) from the chunk's labelled lines; variant parts become specs too."""
    specs: dict[str, str] = {}
    description = ""
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        key, value = m.group(1).strip().lower(), m.group(2).strip()
        if key == "description":
            description = value[:DESCRIPTION_CHARS]
        elif key == "variant":
            for part in value.split(";"):
                k, _, v = part.partition(":")
                if v.strip():
                    specs.setdefault(k.strip().lower(), v.strip())
        elif key not in _NOT_SPECS:
            specs.setdefault(key, value)
    return specs, description


def search_filter(tenant: str, c: Constraints) -> SearchFilter:
    """Index-side filters: brand, category and a widened price band (colour/facets stay soft)."""
    return SearchFilter(
        tenant=tenant,
        brands=c["brands"],
        categories=[c["category"]] if c["category"] else [],
        min_price=c["min_price"] / PREFILTER_SLACK if c["min_price"] is not None else None,
        max_price=c["max_price"] * PREFILTER_SLACK if c["max_price"] is not None else None,
        exclude_skus=c["exclude"],
    )


def to_candidate(hit: Hit, rank: int, *, exact: bool) -> Candidate:
    """Keep what later nodes read; the index price never leaves this function."""
    p: dict[str, Any] = hit.payload
    specs, description = parse_chunk(p.get("text") or "")
    return Candidate(
        sku=hit.sku, product_id=p.get("product_id") or hit.sku, title=p.get("title") or hit.sku,
        brand=p.get("brand_display") or p.get("brand") or "", category=p.get("category"),
        colours=list(p.get("colour") or []), facets=list(p.get("facets") or []),
        model=p.get("model_display") or p.get("model_number"), image_url=p.get("image_url"),
        specs=specs, description=description, score=hit.score, rank=rank, exact=exact,
    )


def find(retriever: Retriever, tenant: str, state: State, limit: int) -> list[Candidate]:
    """Blocking search (embedding + index), run in a worker thread by the node."""
    c = without(state.constraints, state.dropped)
    if state.focus:
        hits = retriever.index.lookup(tenant, skus=state.focus)
        return [to_candidate(h, 0, exact=True) for h in hits]
    flt = search_filter(tenant, c)
    exact: list[Hit] = []
    if c["codes"]:
        brands = {b.lower() for b in c["brands"]}
        exact = [h for h in retriever.exact(" ".join(c["codes"]), flt)
                 if h.sku not in c["exclude"] and (not brands or h.payload.get("brand") in brands)]
    if exact and state.intent in ("lookup", "availability", "compare"):
        return [to_candidate(h, 0, exact=True) for h in exact[:limit]]  # lookups are unranked
    query = state.query or state.message
    hits = retriever.search(query, flt, limit=limit)
    seen = {h.sku for h in exact}
    merged = exact + [h for h in hits if h.sku not in seen]
    return [to_candidate(h, 0 if h.sku in seen else i, exact=h.sku in seen)
            for i, h in enumerate(merged[:limit])]


async def retrieve(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Candidates for this turn; the embedder and the embedded index block, so use a thread."""
    cfg = runtime.context.cfg
    deps = runtime.context.deps
    found = await deps.blocking(find, deps.retriever, cfg.tenant, state, cfg.candidate_limit)
    return {"candidates": found, "retry": False}
