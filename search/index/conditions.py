"""Backend-neutral pieces both indexes share, so filters and lookups mean the same on each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from search.index.base import Hit, IndexedState, SearchFilter
from search.payload import PAGE_KIND, normalise_model, point_id
from search.units import RANGE_FIELDS

# Enough for every variant sharing one model number; lookups are exact, not ranked.
LOOKUP_LIMIT = 100
SCROLL_PAGE = 1000
STATE_FIELDS = ["sku", "content_hash", "version", "price", "in_stock"]


@dataclass(frozen=True, slots=True)
class Cond:
    """One payload condition: exact value, any-of, or an inclusive float range."""

    key: str
    kind: Literal["value", "any", "range"]
    value: Any  # str | int; list[str]; (gte, lte)


def filter_conditions(flt: SearchFilter) -> tuple[list[Cond], list[Cond]]:
    """(must, must_not) for a SearchFilter; tenant always first so no query crosses shops."""
    must = [Cond("tenant", "value", flt.tenant)]
    lists = (("brand", flt.brands), ("colour", flt.colours), ("category", flt.categories),
             ("product_type", flt.types))
    for key, values in lists:
        lowered = _unique(v.strip().lower() for v in values)
        if lowered:
            must.append(Cond(key, "any", lowered))
    must.extend(Cond("facets", "value", f) for f in _unique(flt.facets))
    if flt.skus:
        must.append(Cond("sku", "any", _unique(flt.skus)))
    if flt.min_price is not None or flt.max_price is not None:
        must.append(Cond("price", "range", (flt.min_price, flt.max_price)))
    for key, (low, high) in sorted(flt.ranges.items()):
        if key not in RANGE_FIELDS:
            raise ValueError(f"{key!r} is not a range field ({', '.join(RANGE_FIELDS)})")
        if low is not None or high is not None:
            must.append(Cond(key, "range", (low, high)))
    if flt.in_stock is not None:
        # Integers, not booleans: a boolean MatchValue never matches in Qdrant Edge.
        must.append(Cond("in_stock", "value", 1 if flt.in_stock else 0))
    must_not = [Cond("sku", "any", _unique(flt.exclude_skus))] if flt.exclude_skus else []
    # Store page sections share the collection: product queries never see them, and a page
    # query sees nothing else.
    (must if flt.pages else must_not).append(Cond("kind", "value", PAGE_KIND))
    return must, must_not


def hashable(flt: SearchFilter) -> SearchFilter:
    """The same filter with tuples, so built backend filters can be cached by value."""
    return SearchFilter(
        flt.tenant,
        tuple(flt.brands),
        tuple(flt.colours),
        tuple(flt.categories),
        tuple(flt.facets),
        tuple(flt.skus),
        tuple(flt.exclude_skus),
        flt.min_price,
        flt.max_price,
        flt.in_stock,
        flt.pages,
        FrozenRanges(flt.ranges),
        tuple(flt.types),
    )


class FrozenRanges(dict[str, tuple[float | None, float | None]]):
    """A filter's ranges as a hashable value, so built filters can be cached (never mutated)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


def lookup_filter(tenant: str, flt: SearchFilter | None) -> tuple[list[Cond], list[Cond]]:
    """(must, must_not) of an exact lookup: the tenant, plus every condition of ``flt``."""
    if flt is None:
        return [Cond("tenant", "value", tenant)], [Cond("kind", "value", PAGE_KIND)]
    if flt.tenant != tenant:
        raise ValueError("a lookup's filter must be for the same tenant")
    return filter_conditions(flt)


def lookup_conditions(
    skus: Sequence[str],
    model_numbers: Sequence[str],
    eans: Sequence[str],
    product_ids: Sequence[str] = (),
) -> list[Cond]:
    """The `should` side of an exact lookup: any SKU, normalised model number, EAN or product."""
    should = []
    if skus:
        should.append(Cond("sku", "any", _unique(skus)))
    if product_ids:
        should.append(Cond("product_id", "any", _unique(product_ids)))
    models = _unique(m for m in (normalise_model(x) for x in model_numbers) if m)
    if models:
        should.append(Cond("model_number", "any", models))
    codes = _unique(e.strip() for e in eans if e.strip())
    if codes:
        should.append(Cond("ean", "any", codes))
    return should


def order_lookup(hits: list[Hit], skus: Sequence[str]) -> list[Hit]:
    """Requested SKUs first in the caller's order, the rest by SKU, so results are stable."""
    rank = {s: i for i, s in enumerate(skus)}
    return sorted(hits, key=lambda h: (rank.get(h.sku, len(rank)), h.sku))


def to_hit(score: float, payload: Mapping[str, Any] | None) -> Hit:
    """A Hit keyed by the payload's SKU (the point id is derived, not meaningful)."""
    data = dict(payload or {})
    return Hit(sku=str(data.get("sku", "")), score=float(score), payload=data)


def to_state(payload: Mapping[str, Any] | None) -> IndexedState:
    """What re-ingest and the stale-event check need from a stored payload."""
    p = payload or {}
    price = p.get("price")
    in_stock = p.get("in_stock")
    return IndexedState(
        sku=str(p.get("sku", "")),
        content_hash=str(p.get("content_hash", "")),
        version=int(p.get("version") or 0),
        price=float(price) if price is not None else None,
        in_stock=int(in_stock) if in_stock is not None else None,
    )


def ids_for(tenant: str, skus: Sequence[str]) -> list[str]:
    """Point ids of a tenant's SKUs, de-duplicated in order."""
    return [point_id(tenant, s) for s in _unique(skus)]


def check_point(point_key: str, payload: Mapping[str, Any]) -> None:
    """Refuse a point whose id is not uuid5(tenant, sku): it would be invisible to lookups."""
    tenant, sku = payload.get("tenant"), payload.get("sku")
    if not tenant or not sku:
        raise ValueError("every point needs 'tenant' and 'sku' in its payload")
    if point_key != point_id(str(tenant), str(sku)):
        raise ValueError(f"point id for {tenant}/{sku} is not point_id(tenant, sku)")


def check_payload_patch(tenant: str, sku: str, payload: Mapping[str, Any]) -> None:
    """A patch may not move a point to another tenant or SKU, which would orphan its id."""
    if payload.get("tenant", tenant) != tenant or payload.get("sku", sku) != sku:
        raise ValueError("set_payload cannot change a point's tenant or sku")


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))
