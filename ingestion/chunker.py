"""The atomic chunker: exactly one chunk per SKU, built from labelled fields, with no volatile data.

Price, stock and promotions never enter the text (they change by the minute and the agent reads
them live); a coarse price and in_stock flag ride in the payload only as prefilters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from catalog import Product, Sku
from search import colour_of, facets_of, format_value, normalise_colours, normalise_model, point_id
from search.sparse import ANALYSER_VERSION
from search.units import payload_quantities

DESCRIPTION_CHARS = 400
MAX_SPEC_LINES = 10

# Attributes a shopper filters or asks on, in the order they are worth stating.
KEY_ATTRIBUTES = (
    "product type",
    "type",
    "connectivity technology",
    "device interface",
    "interface",
    "form factor",
    "compatibility",
    "brand compatibility",
    "printing colours",
    "print technology",
    "ink type",
    "display diagonal",
    "display resolution",
    "internal memory",
    "total storage capacity",
    "processor family",
    "processor model",
    "operating system installed",
    "bluetooth version",
    "wi fi standards",
    "material",
    "cable length",
    "quantity per pack",
    "recommended usage",
    "pointing device",
)
# Never embedded: they are volatile or are codes that embedding models handle badly.
VOLATILE_KEYS = frozenset(
    {"price", "stock", "availability", "promotion", "promo", "discount", "sale"}
)

def _is_volatile(key: str) -> bool:
    return any(word in VOLATILE_KEYS for word in key.lower().split())


@dataclass(frozen=True)
class Chunk:
    """One SKU ready to embed: its text, the hash that decides re-embedding, and its payload."""

    tenant: str
    sku: str
    point_id: str
    text: str
    content_hash: str
    payload: dict[str, Any]


def _bounded(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


_EMPTY = frozenset({"", "1", "N", "no"})  # Icecat placeholders that say nothing to a shopper


def chunk_text(product: Product, sku: Sku) -> str:
    """Labelled lines, most telling first: title, brand, model, variant, description, specs."""
    lines = [f"Product: {product.sku_title(sku)}"]
    if product.brand:
        lines.append(f"Brand: {product.brand}")
    if sku.model_number:
        lines.append(f"Model: {sku.model_number}")
    if product.category:
        lines.append(f"Category: {product.category}")
    # No "Type:" line: measured on the dev judgments it cost hybrid nDCG@10 0.810 -> 0.805;
    # the product type is in the payload (filter, boost) only.
    # Sorted (colour first) because stores do not keep JSON key order (PostgreSQL jsonb, sorted
    # dumps): the same SKU read back from the SoR must give the same text and hash.
    variant = [
        f"{k}: {v}"
        for k, v in sorted(
            sku.variant_attributes.items(), key=lambda kv: (kv[0] != "colour", kv[0])
        )
        if v and not _is_volatile(k)
    ]
    colour = colour_of(product, sku)
    if colour and not any(k in ("colour", "color") for k in sku.variant_attributes):
        variant.insert(0, f"colour: {colour}")
    if variant:
        lines.append("Variant: " + "; ".join(variant))
    if product.description:
        lines.append(f"Description: {_bounded(product.description, DESCRIPTION_CHARS)}")
    attrs = product.attributes
    values = (format_value(attrs[key]) for key in KEY_ATTRIBUTES if key in attrs)
    named = zip((key for key in KEY_ATTRIBUTES if key in attrs), values, strict=True)
    specs = [f"- {key}: {value}" for key, value in named if value not in _EMPTY][:MAX_SPEC_LINES]
    if specs:
        lines.append("Technical specifications:")
        lines.extend(specs)
    return "\n".join(lines)


def content_hash(text: str, model_id: str) -> str:
    """Hash of what is embedded *and* by which model and BM25 analyser: any change re-embeds."""
    return hashlib.sha256(f"{model_id}\x1f{ANALYSER_VERSION}\x1f{text}".encode()).hexdigest()[:32]


def chunk_sku(product: Product, sku: Sku, *, model_id: str, version: int = 0) -> Chunk:
    """The one chunk of one SKU; ``version`` is the SoR change it reflects (outbox id)."""
    text = chunk_text(product, sku)
    digest = content_hash(text, model_id)
    colours = normalise_colours(colour_of(product, sku))
    payload: dict[str, Any] = {
        "tenant": product.tenant,
        "sku": sku.sku,
        "product_id": product.product_id,
        "brand": product.brand.lower(),
        "brand_display": product.brand,
        "title": product.sku_title(sku),
        "category": (product.category or "").lower() or None,
        "product_type": (product.product_type or "").lower() or None,
        "colour": colours,
        "model_number": normalise_model(sku.model_number) or None,
        "model_display": sku.model_number,
        "ean": list(sku.ean),
        "facets": facets_of(product, sku),
        "image_url": sku.image_url,
        "url": sku.url,
        # Coarse prefilters only, refreshed by price/stock events; answers never quote them.
        "price": float(sku.price.amount),
        "currency": sku.price.currency,
        "in_stock": 1 if sku.stock.in_stock else 0,
        "content_hash": digest,
        "version": version,
        "text": text,
        # Sizes in canonical units (storage_gb, screen_in, ...) for range filters.
        **payload_quantities(product.sku_title(sku),
                             {**product.attributes, **sku.variant_attributes}),
    }
    return Chunk(product.tenant, sku.sku, point_id(product.tenant, sku.sku), text, digest, payload)


def chunk_product(
    product: Product, *, model_id: str, versions: dict[str, int] | None = None
) -> list[Chunk]:
    """Exactly one chunk per SKU of ``product``."""
    versions = versions or {}
    return [
        chunk_sku(product, sku, model_id=model_id, version=versions.get(sku.sku, 0))
        for sku in product.skus
    ]


def chunk_products(
    products: Iterable[Product], *, model_id: str, versions: dict[str, int] | None = None
) -> Iterator[Chunk]:
    for product in products:
        yield from chunk_product(product, model_id=model_id, versions=versions)
