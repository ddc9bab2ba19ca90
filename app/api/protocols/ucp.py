"""UCP catalog shapes (Universal Commerce Protocol, catalog search and lookup) for the MCP tools.

Requests are strict (unknown keys are refused). Responses follow UCP's product and variant
schemas: price ``{amount, currency}`` in the currency's minor units, availability
``{available, status, quantity}``, and ``as_of`` (when the live lookup was made) on each
variant, an extension field UCP allows. Figures come from ``agents.CatalogBrowser`` only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agents import ListedProduct, Listing, SearchPage
from catalog import InvalidInput, minor_units

VERSION = "2026-04-08"
SEARCH, LOOKUP = "dev.ucp.shopping.catalog.search", "dev.ucp.shopping.catalog.lookup"
STORE_INFO = "dev.shopkeeper.store.info"  # ours: UCP has no store-policy capability
Status = Literal["in_stock", "low_stock", "out_of_stock", "preorder", "discontinued"]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuyerContext(Strict):
    """UCP's provisional buyer signals; ``currency`` names the price filter's currency."""

    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", examples=["USD"])
    address_country: str | None = Field(default=None, max_length=2, examples=["US"])
    address_region: str | None = Field(default=None, max_length=64)
    postal_code: str | None = Field(default=None, max_length=16)
    language: str | None = Field(default=None, max_length=35)
    intent: str | None = Field(default=None, max_length=500)


class PriceFilter(Strict):
    min: int | None = Field(default=None, ge=0, description="Lowest price, minor units (1999)")
    max: int | None = Field(default=None, ge=0, description="Highest price, minor units (3000)")


class SearchFilters(Strict):
    categories: list[Identifier] = Field(default_factory=list, max_length=20, examples=[["mouse"]],
                                  description="Product types, e.g. mouse, keyboard (any of)")
    brand: list[Identifier] = Field(default_factory=list, max_length=20, examples=[["Logitech"]],
                             description="Brands, case-insensitive (any of)")
    availability: list[Status] = Field(default_factory=list, examples=[["in_stock"]],
                                       description="Live availability statuses (any of)")
    price: PriceFilter | None = None


class Pagination(Strict):
    cursor: str | None = Field(default=None, max_length=512, description="From the last page")
    limit: int = Field(default=10, ge=1, le=50)


class SearchRequest(Strict):
    query: str = Field(min_length=1, max_length=500, examples=["wireless mouse"])
    filters: SearchFilters | None = None
    pagination: Pagination | None = None
    context: BuyerContext | None = None


class LookupRequest(Strict):
    ids: list[Identifier] = Field(min_length=1, max_length=50, examples=[["910-005620"]],
                           description="SKUs, product ids, model numbers or EANs")
    context: BuyerContext | None = None


class ProductRequest(Strict):
    id: str = Field(min_length=1, max_length=128, examples=["910-005620"],
                    description="A product id or a SKU (that SKU is featured first)")
    context: BuyerContext | None = None


class StoreInfoRequest(Strict):
    """A question about the shop itself, answered from its store pages."""

    query: str = Field(min_length=1, max_length=500, examples=["Do you deliver abroad?"],
                       description="The shopper's question about the shop, in their words")
    page: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | None = Field(
        default=None, examples=["returns"],
        description="Only this page (shipping, returns, warranty, payment, contact, ...)")
    limit: int = Field(default=3, ge=1, le=5, description="Sections to return at most")


# -- cursors -----------------------------------------------------------------------------------


def _key(req: SearchRequest) -> str:
    """A cursor belongs to one search: the request without its cursor, hashed."""
    body = req.model_dump(mode="json", exclude={"pagination": {"cursor"}})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def cursor(req: SearchRequest, offset: int) -> str:
    raw = json.dumps({"o": offset, "k": _key(req)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def offset_of(req: SearchRequest) -> int:
    """The page a cursor points at; 0 without one; InvalidInput for another search's cursor."""
    token = req.pagination.cursor if req.pagination else None
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["k"] == _key(req) and isinstance(data["o"], int) and data["o"] >= 0:
            return int(data["o"])
    except (ValueError, KeyError, TypeError):
        pass
    raise InvalidInput("catalog.pagination.cursor: not a cursor of this search; send the same "
                       "query and filters with the cursor the last page returned")


# -- responses ---------------------------------------------------------------------------------


def _money(x: Listing) -> dict[str, Any]:
    currency = x.offer["currency"] or "USD"
    return {"amount": minor_units(Decimal(x.offer["price"] or 0), currency),
            "currency": currency}


def _availability(x: Listing) -> dict[str, Any]:
    o = x.offer
    out: dict[str, Any] = {"available": bool(o["in_stock"]) or o["availability"] == "preorder",
                           "status": o["availability"]}
    if o["quantity"] is not None:
        out["quantity"] = o["quantity"]
    return out


def variant(x: Listing, *, lookup: bool = False) -> dict[str, Any]:
    c = x.cand
    out: dict[str, Any] = {
        "id": c["sku"], "sku": c["sku"], "title": c["title"],
        "description": {"plain": c["description"]}, "price": _money(x),
        "availability": _availability(x), "as_of": x.offer["as_of"],
        "barcodes": [{"type": "EAN", "value": e} for e in x.eans],
    }
    if x.url:
        out["url"] = x.url
    if c["image_url"]:
        out["media"] = [{"type": "image", "url": c["image_url"], "alt_text": c["title"]}]
    if x.offer["synthetic"]:
        out["metadata"] = {"stock_synthetic": True}
    if lookup:
        out["inputs"] = [{"id": i, "match": m} for i, m in x.matches]
    return out


def product(listings: ListedProduct, *, lookup: bool = False) -> dict[str, Any]:
    """A UCP product: the featured (first) SKU's content, every listed SKU as a variant."""
    first = listings[0].cand
    prices = [_money(x) for x in listings]
    cheapest = min(prices, key=lambda p: p["amount"])
    dearest = max(prices, key=lambda p: p["amount"])
    out: dict[str, Any] = {
        "id": first["product_id"], "title": first["title"], "brand": first["brand"],
        "description": {"plain": first["description"]},
        "price_range": {"min": cheapest, "max": dearest},
        "variants": [variant(x, lookup=lookup) for x in listings],
    }
    if first["category"]:
        out["categories"] = [{"value": first["category"]}]
    if listings[0].url:
        out["url"] = listings[0].url
    if first["image_url"]:
        out["media"] = [{"type": "image", "url": first["image_url"], "alt_text": first["title"]}]
    return out


def _ucp(capability: str) -> dict[str, Any]:
    return {"version": VERSION, "capabilities": {capability: [{"version": VERSION}]}}


def search_response(req: SearchRequest, page: SearchPage) -> dict[str, Any]:
    pagination: dict[str, Any] = {"has_next_page": page.next_offset is not None,
                                  "total_count": page.total}
    if page.next_offset is not None:
        pagination["cursor"] = cursor(req, page.next_offset)
    return {"ucp": _ucp(SEARCH), "products": [product(p) for p in page.products],
            "pagination": pagination}


def lookup_response(ids: list[str], products: list[ListedProduct]) -> dict[str, Any]:
    found = {i for p in products for x in p for i, _ in x.matches}
    messages = [{"type": "warning", "code": "not_found", "content": f"nothing matches {i!r}"}
                for i in dict.fromkeys(ids) if i.strip() and i.strip() not in found]
    return {"ucp": _ucp(LOOKUP), "products": [product(p, lookup=True) for p in products],
            "messages": messages}


def product_response(listings: ListedProduct) -> dict[str, Any]:
    return {"ucp": _ucp(LOOKUP), "product": product(listings)}


def store_info_response(result: dict[str, Any]) -> dict[str, Any]:
    """Sections with their citation; an uncovered question says so and gives the contact."""
    messages = [] if result["covered"] else [{
        "type": "info", "code": "not_covered",
        "content": "no store page answers this; say so and give the contact section"}]
    return {"ucp": _ucp(STORE_INFO), "covered": result["covered"],
            "sections": result["sections"], "contact": result["contact"], "messages": messages}
