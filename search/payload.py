"""The payload contract: what a stored point says about its SKU, shared by writer and reader.

Both sides must agree on these forms, so they live here once: the point id, how model numbers,
colours and facets are normalised, and which payload fields get an index before bulk load.
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

from catalog import AttrValue, Product, Sku
from search.units import RANGE_FIELDS

# Fixed forever: changing it re-keys every stored point, so re-ingest would duplicate the catalog.
NAMESPACE = uuid.UUID("c3ed890a-92c2-4875-8405-ecb1527127e2")

# Payload fields and the index type each gets before bulk load.
PAYLOAD_INDEXES: dict[str, Literal["keyword", "float", "integer", "tenant"]] = {
    "tenant": "tenant",
    "sku": "keyword",
    "product_id": "keyword",
    "brand": "keyword",
    "colour": "keyword",
    "category": "keyword",
    "product_type": "keyword",
    "model_number": "keyword",
    "ean": "keyword",
    "facets": "keyword",
    "price": "float",
    "in_stock": "integer",
    "kind": "keyword",
    # Numeric sizes a shopper asks for ("at least 16 GB"), in canonical units (search.units).
    **dict.fromkeys(RANGE_FIELDS, "float"),
}
# ``kind`` of a store page section's point; product points have no ``kind``.
PAGE_KIND = "page"

# Attributes that become keyword facets ("key=value") in the payload for exact filtering.
FACET_ATTRIBUTES = frozenset(
    {
        "product type",
        "type",
        "connectivity technology",
        "device interface",
        "interface",
        "form factor",
        "print technology",
        "printing colours",
        "ink type",
        "material",
        "pointing device",
    }
)

_MODEL_STRIP = re.compile(r"[\s\-_/.]+")
_COLOUR_SYNONYMS = {
    "gray": "grey",
    "multicolor": "multicolour",
    "multi": "multicolour",
    "colour": "",
    "color": "",
    "aluminum": "aluminium",
}
_SPLIT = re.compile(r"\s*(?:,|/|&|\+|\band\b)\s*")


def point_id(tenant: str, sku: str) -> str:
    """Deterministic id per (tenant, SKU), so an update is an upsert of the same point."""
    return str(uuid.uuid5(NAMESPACE, f"{tenant}\x1f{sku}"))


def normalise_model(raw: str | None) -> str:
    """'CF-226X / 26X' -> 'cf226x26x': how model numbers are stored and matched exactly."""
    return _MODEL_STRIP.sub("", raw or "").lower()


def normalise_colours(raw: str | None) -> list[str]:
    """'Black,Silver' -> ['black', 'silver']: the payload keyword the colour filter matches."""
    if not raw:
        return []
    out: list[str] = []
    for part in _SPLIT.split(raw.lower()):
        part = _COLOUR_SYNONYMS.get(part.strip(), part.strip())
        if part and part not in out:
            out.append(part)
    return out


def format_value(value: AttrValue) -> str:
    """An attribute value as text: booleans as yes/no, whole floats without '.0'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def colour_of(product: Product, sku: Sku) -> str | None:
    """The SKU's colour as the catalog states it (variant first, then the product)."""
    for source in (sku.variant_attributes, product.attributes):
        for key in ("colour", "product colour", "color"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def facets_of(product: Product, sku: Sku) -> list[str]:
    """The SKU's ``key=value`` facets: facet attributes of the product plus its variant parts."""
    facets = {
        f"{key}={format_value(value).lower()}"
        for key, value in product.attributes.items()
        if key in FACET_ATTRIBUTES and isinstance(value, str) and value
    }
    facets.update(
        f"{key}={value.lower()}" for key, value in sku.variant_attributes.items() if value
    )
    return sorted(facets)
