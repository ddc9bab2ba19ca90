"""Catalog reads without the graph: search, lookup and product detail, each with live offers.

What the MCP catalog tools do (``app/api/protocols/mcp.py`` only shapes the answers as UCP).
Content comes from the index, as it does for the agent; price and stock come from the one
live lookup (``LiveLookup``) at call time, so a price changed in the SoR shows in the next call.
If the SoR does not answer, the call fails with ``SorUnavailable``: no price is ever guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from agents.context import AgentDeps
from agents.rules.candidates import PREFILTER_SLACK, to_candidate
from agents.rules.cards import product_page
from agents.state import Candidate, LiveOffer
from catalog import SorUnavailable, major_units, minor_units
from search import Hit, SearchFilter, normalise_model

POOL = 100
"""SKUs retrieved per search; pages are cut from this pool once live filters have run."""

Match = tuple[str, str]  # (the caller's id, "exact" | "featured"), as UCP correlates inputs


@dataclass(frozen=True)
class Listing:
    """One SKU as a catalog tool shows it: index content, its page and its live offer."""

    cand: Candidate
    offer: LiveOffer
    url: str | None
    eans: list[str]
    matches: list[Match] = field(default_factory=list)


ListedProduct = list[Listing]
"""The listed SKUs of one product, featured one first."""


@dataclass(frozen=True)
class SearchPage:
    products: list[ListedProduct]
    total: int
    """Products in the whole (live-filtered) result, not only this page."""

    next_offset: int | None


@dataclass(frozen=True)
class PriceBand:
    """Bounds in ``currency``'s minor units (1999 = $19.99), as UCP's price filter; an offer
    in another currency is outside the band (we do not convert)."""

    min: int | None = None
    max: int | None = None
    currency: str = "USD"

    def admits(self, o: LiveOffer) -> bool:
        if o["price"] is None or o["currency"] != self.currency:
            return False
        units = minor_units(Decimal(o["price"]), self.currency)
        return (self.min is None or units >= self.min) and (self.max is None or units <= self.max)

    def major(self, bound: int | None) -> float | None:
        """A bound in currency units, for the index's (stale, coarse) price prefilter."""
        return None if bound is None else float(major_units(bound, self.currency))


class CatalogBrowser:
    """Built once over the agent's clients; every call reads the SoR live."""

    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps

    async def search(
        self, tenant: str, query: str, *, brands: Sequence[str] = (),
        categories: Sequence[str] = (), price: PriceBand | None = None,
        availability: Sequence[str] = (), offset: int = 0, limit: int = 10,
    ) -> SearchPage:
        """Hybrid search under the filters, live-checked, grouped by product, one page of it."""
        band = price or PriceBand()
        low, high = band.major(band.min), band.major(band.max)
        flt = SearchFilter(
            tenant=tenant, brands=list(brands), categories=list(categories),
            min_price=low / PREFILTER_SLACK if low is not None else None,
            max_price=high * PREFILTER_SLACK if high is not None else None,
        )
        hits = await self.deps.blocking(self.deps.retriever.search, query, flt, limit=POOL)
        listed = await self._live(tenant, hits)
        wanted = set(availability)
        kept = [x for x in listed if (price is None or band.admits(x.offer))
                and (not wanted or x.offer["availability"] in wanted)]
        products = _by_product(kept)
        end = offset + limit
        return SearchPage(products[offset:end], len(products),
                          end if end < len(products) else None)

    async def lookup(self, tenant: str, ids: Sequence[str]) -> list[ListedProduct]:
        """Products named by SKU, product id, model number or EAN; one featured SKU for a
        product named by its id, every SKU named directly; each says which ids matched."""
        ids = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
        hits = await self.deps.blocking(
            self.deps.retriever.index.lookup, tenant, skus=ids, product_ids=ids,
            model_numbers=[normalise_model(i) for i in ids], eans=[i for i in ids if i.isdigit()])
        matched = []
        for h in hits:
            found = _matches(h, ids)
            if found:
                matched.append((h, found))
        listed = await self._live(tenant, [h for h, _ in matched],
                                  {h.sku: found for h, found in matched})
        out = []
        for product in _by_product(listed):
            exact = [x for x in product if any(kind == "exact" for _, kind in x.matches)]
            out.append(exact or product[:1])
        return out

    async def product(self, tenant: str, identifier: str) -> ListedProduct | None:
        """One product with all its SKUs, by product id or SKU (that SKU featured first)."""
        index = self.deps.retriever.index
        named = await self.deps.blocking(index.lookup, tenant, skus=[identifier],
                                         product_ids=[identifier])
        if not named:
            return None
        pid = named[0].payload.get("product_id") or named[0].sku
        hits = await self.deps.blocking(index.lookup, tenant, product_ids=[pid])
        hits = sorted(hits or named, key=lambda h: (h.sku != identifier, h.sku))
        products = _by_product(await self._live(tenant, hits))
        return products[0] if products else None

    async def _live(self, tenant: str, hits: Sequence[Hit],
                    matches: dict[str, list[Match]] | None = None) -> list[Listing]:
        """Listings for the hits the SoR still sells, in order; SorUnavailable if it is down."""
        result = await self.deps.live.fetch(tenant, [h.sku for h in hits])
        if result.status != "ok":
            raise SorUnavailable(f"live prices are unavailable right now ({result.error}); "
                                 "no price is shown rather than a stale one")
        template = self.deps.product_url_template
        out = []
        for rank, h in enumerate(hits):
            offer = result.offers.get(h.sku)
            if offer is None or offer["price"] is None:  # gone from the SoR, or unpriced
                continue
            cand = to_candidate(h, rank, exact=False)
            out.append(Listing(cand, offer, product_page(cand, template),
                               list(h.payload.get("ean") or []), (matches or {}).get(h.sku, [])))
        return out


def _matches(hit: Hit, ids: Sequence[str]) -> list[Match]:
    """Which requested ids name this SKU: its SKU, model number or EAN exactly, or its product."""
    p = hit.payload
    model, eans, pid = p.get("model_number"), set(p.get("ean") or []), p.get("product_id")
    out: list[Match] = []
    for i in ids:
        if i == hit.sku or i in eans or (model and normalise_model(i) == model):
            out.append((i, "exact"))
        elif i == pid:
            out.append((i, "featured"))
    return out


def _by_product(listed: Sequence[Listing]) -> list[ListedProduct]:
    """Group SKUs by product in order of each product's best SKU."""
    groups: dict[str, ListedProduct] = {}
    for x in listed:
        groups.setdefault(x.cand["product_id"], []).append(x)
    return list(groups.values())
