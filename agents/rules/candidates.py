"""Retrieval hits as the agent's candidates, and the shopper's constraints as an index filter.

Pure: the index price stays here (only the candidate shape leaves), so no later rule can quote it.
"""

from __future__ import annotations

import re
from typing import Any

from agents.state import Candidate, Constraints
from search import Hit, SearchFilter

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


def search_filter(tenant: str, c: Constraints, *, strict: bool = False) -> SearchFilter:
    """Index-side filters: brand, product type and a widened price band (colour/facets stay
    soft). ``strict`` (the price-ordered read) adds the facets and the index's stock copy: the
    scan must hold only SKUs that fit, and the live lookup then confirms price and stock."""
    return SearchFilter(
        tenant=tenant,
        brands=c["brands"],
        types=[c["product_type"]] if c["product_type"] else [],
        facets=_one_key_facets(c["facets"]) if strict else (),
        min_price=c["min_price"] / PREFILTER_SLACK if c["min_price"] is not None else None,
        max_price=c["max_price"] * PREFILTER_SLACK if c["max_price"] is not None else None,
        in_stock=True if strict and c["in_stock"] else None,
        exclude_skus=c["exclude"],
        ranges={k: (low, high) for k, (low, high) in (c.get("ranges") or {}).items()},
    )


def _one_key_facets(facets: list[str]) -> list[str]:
    """Facets whose value names one attribute only: "usb" may be the device interface or the
    interface, and the index's facet filter means "all of", so such a wish stays soft."""
    keys: dict[str, list[str]] = {}
    for f in facets:
        keys.setdefault(f.split("=", 1)[-1], []).append(f)
    return [fs[0] for fs in keys.values() if len(fs) == 1]


def to_candidate(hit: Hit, rank: int, *, exact: bool) -> Candidate:
    """Keep what later nodes read; the index price never leaves this function."""
    p: dict[str, Any] = hit.payload
    specs, description = parse_chunk(p.get("text") or "")
    return Candidate(
        sku=hit.sku, product_id=p.get("product_id") or hit.sku, title=p.get("title") or hit.sku,
        brand=p.get("brand_display") or p.get("brand") or "", category=p.get("category"),
        product_type=p.get("product_type"),
        colours=list(p.get("colour") or []), facets=list(p.get("facets") or []),
        model=p.get("model_display") or p.get("model_number"), image_url=p.get("image_url"),
        url=p.get("url"), specs=specs, description=description, score=hit.score, rank=rank,
        exact=exact,
    )
