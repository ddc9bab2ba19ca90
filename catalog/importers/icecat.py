"""Import the Open Icecat product dump (``products_part*.json.gz``) into Products with variant SKUs.

Records that share (supplier, name) are colour or pack variants of one product, so they become
one Product whose SKUs keep the Icecat record ids (the docids of the relevance judgments).
Stock is not in the data: it is synthesised from the SKU id and marked ``synthetic``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from catalog.errors import InvalidProduct
from catalog.importers.base import (
    ImportResult,
    attr_text,
    attr_value,
    decode_lenient,
    first_error,
    read_bytes,
    synthetic_stock_fields,
    undecodable_field,
)
from catalog.importers.categories import category_for
from catalog.models import AttrValue, Product
from catalog.product_types import assign_types

PART_GLOB = "products_part*.json.gz"
_PREFIXES = ("attr_t_", "attr_n_", "attr_b_")  # text first: it wins a clash of readable keys
# Readable names for the keys shoppers ask about; everything else is derived mechanically.
KEY_ALIASES = {"product colour": "colour", "quantity per pack": "pack size"}
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89abAB]")


@functools.lru_cache(maxsize=8192)
def readable_key(raw: str) -> str:
    """``attr_t_contrast_ratio__typical_`` -> ``contrast ratio typical``, as a shopper says it."""
    for prefix in _PREFIXES:
        if raw.startswith(prefix):
            raw = raw[len(prefix) :]
            break
    key = _SPACES.sub(" ", raw.replace("_", " ")).strip()
    return KEY_ALIASES.get(key, key)


def _id_order(sku: str) -> tuple[int, int, str]:
    """Numeric ids sort numerically, so "smallest record id" means what it says."""
    return (0, int(sku), "") if sku.isdigit() else (1, 0, sku)


def _attributes(rec: dict[str, Any]) -> dict[str, AttrValue]:
    """A record's attributes under readable keys; the first prefix (text) wins a key clash."""
    by_prefix: dict[str, list[tuple[str, Any]]] = {p: [] for p in _PREFIXES}
    for k, v in rec.items():
        bucket = by_prefix.get(k[:7])
        if bucket is not None and v is not None and v != "":
            bucket.append((k, v))
    out: dict[str, AttrValue] = {}
    for items in by_prefix.values():
        for k, v in items:
            key = readable_key(k)
            if key and key not in out:
                out[key] = attr_value(v)
    return out


def _supply_hint(rec: dict[str, Any]) -> str | None:
    """Printing supplies titled just "HP 83 Original Black" are told apart by their attributes."""
    keys = " ".join(k for k in rec if k.startswith("attr_"))
    tech = str(rec.get("attr_t_print_technology") or "").lower()
    if rec.get("attr_t_type") != "Original" and " Original" not in str(rec.get("title", "")):
        return None
    if "toner" in keys or "laser" in tech or "led" in tech:
        return "toner cartridge"
    if "_ink_" in keys or "ink" in tech:
        return "ink cartridge"
    return None


def _check(rec: Any, clean_text: bool = False) -> str | None:
    """Why a raw record cannot become a SKU, or None (``clean_text``: skip the UTF-8 scan)."""
    if not isinstance(rec, dict):
        return f"record is a {type(rec).__name__}, not an object"
    bad = None if clean_text else undecodable_field(rec)
    if bad:
        return f"undecodable text (invalid UTF-8) in {bad}"
    rid = rec.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()):
        return "missing id (SKU)"
    if not isinstance(rid, str | int) or isinstance(rid, bool):
        return f"id must be a string, got {type(rid).__name__}"
    title = rec.get("title")
    if not isinstance(title, str) or not title.strip():
        return "missing title"
    price = rec.get("price")
    if price is None:
        return "missing price"
    if isinstance(price, bool) or not isinstance(price, int):
        return f"price must be an integer number of US cents, got {price!r}"
    if price < 0:
        return f"negative price {price}"
    ean = rec.get("ean", [])
    if not isinstance(ean, list | str):
        return f"ean must be a list, got {type(ean).__name__}"
    return None


def _product(group: list[dict[str, Any]], tenant: str) -> Product:
    """One Product from the records of a variant group (already sorted by id)."""
    attrs = [_attributes(r) for r in group]
    keys = list(dict.fromkeys(k for a in attrs for k in a))
    shared = {
        k: attrs[0][k]
        for k in keys
        if all(k in a for a in attrs) and all(a[k] == attrs[0][k] for a in attrs)
    }
    skus: list[dict[str, Any]] = []
    for rec, a in zip(group, attrs, strict=True):
        ean = rec.get("ean") or []
        sku_id = str(rec["id"]).strip()
        skus.append(
            {
                "sku": sku_id,
                "title": rec["title"].strip(),
                "model_number": str(rec["name"]) if rec.get("name") else None,
                "ean": [ean] if isinstance(ean, str) else [str(e) for e in ean],
                "variant_attributes": {k: attr_text(v) for k, v in a.items() if k not in shared},
                "price": {"amount": Decimal(rec["price"]).scaleb(-2), "currency": "USD"},
                "stock": synthetic_stock_fields(sku_id),
                "image_url": rec.get("img_500x500") or None,
            }
        )
    first = group[0]
    ptype = first.get("attr_t_product_type")
    released = first.get("date_released")
    # One validation of the whole tree is several times faster than building each model.
    return Product.model_validate(
        {
            "tenant": tenant,
            "product_id": f"icecat-{skus[0]['sku']}",
            "brand": str(first.get("supplier") or ""),
            "title": first["title"].strip(),
            "description": next(
                (str(r["short_description"]).strip() for r in group if r.get("short_description")),
                "",
            ),
            "category": category_for(
                first["title"], ptype if isinstance(ptype, str) else None, _supply_hint(first)
            ),
            "attributes": shared,
            "skus": skus,
            "released": str(released)[:10] if released else None,
        }
    )


def _files(dir_or_files: str | Path | Iterable[str | Path]) -> list[Path]:
    """The part files to read: a directory's ``products_part*.json.gz``, or the files given."""
    if isinstance(dir_or_files, str | Path):
        p = Path(dir_or_files)
        if p.is_dir():
            files = sorted(p.glob(PART_GLOB))
            if not files:
                raise FileNotFoundError(f"no {PART_GLOB} in {p}")
            return files
        return [p]
    return [Path(f) for f in dir_or_files]


def _records(path: Path, result: ImportResult) -> list[tuple[int, dict[str, Any]]]:
    """The good records of a part file with their array index; bad ones go to ``result.errors``."""
    source = str(path)
    try:
        text = decode_lenient(read_bytes(path))
        # Only text with a surrogate (a bad byte, or a \\uD8xx escape) needs the per-record scan.
        clean = not _SURROGATE.search(text)
        data = json.loads(text)
    except (OSError, EOFError, ValueError) as exc:
        result.errors.append(InvalidProduct(f"unreadable file: {first_error(exc)}", source=source))
        return []
    if not isinstance(data, list):
        result.errors.append(InvalidProduct("expected a JSON array of records", source=source))
        return []
    good = []
    for i, rec in enumerate(data):
        result.records += 1
        reason = _check(rec, clean)
        if reason:
            result.errors.append(InvalidProduct(reason, source=source, record=i))
        else:
            good.append((i, rec))
    return good


def load_icecat(
    dir_or_files: str | Path | Sequence[str | Path],
    *,
    tenant: str = "demo",
    limit: int | None = None,
) -> ImportResult:
    """Load Icecat part files into grouped Products; bad records are reported, the rest still load.

    ``limit`` caps the number of products (in order of first appearance), not records.
    """
    result = ImportResult()
    groups: dict[tuple[str, str], list[tuple[str, int, dict[str, Any]]]] = {}
    for path in _files(dir_or_files):
        for index, rec in _records(path, result):
            rid = str(rec["id"]).strip()
            name = str(rec.get("name") or "").strip()
            key = (str(rec.get("supplier") or ""), name) if name else ("", "\0" + rid)
            groups.setdefault(key, []).append((str(path), index, rec))
    for members in groups.values():
        if limit is not None and len(result.products) >= limit:
            break
        members.sort(key=lambda m: _id_order(str(m[2]["id"]).strip()))
        seen: set[str] = set()
        unique = []
        for source, index, rec in members:
            rid = str(rec["id"]).strip()
            if rid in seen:
                result.errors.append(
                    InvalidProduct(f"duplicate id {rid}", source=source, record=index)
                )
                continue
            seen.add(rid)
            unique.append(rec)
        try:
            result.products.append(_product(unique, tenant))
        except ValueError as exc:  # pydantic ValidationError, Decimal overflow
            source, index, _ = members[0]
            result.errors.append(InvalidProduct(first_error(exc), source=source, record=index))
    result.products = assign_types(result.products)  # learned from the whole batch at once
    return result
