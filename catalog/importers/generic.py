"""Load a shop's own catalog from JSONL, JSON or CSV (maybe gzipped); see docs/catalog-format.md.

Every record is validated on its own: a bad line or row becomes an ``InvalidProduct`` naming the
file, the line (or array index) and the reason, and the rest of the file still loads.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from catalog.errors import InvalidProduct
from catalog.importers.base import (
    ImportResult,
    availability_for,
    decode_lenient,
    first_error,
    read_bytes,
    undecodable_field,
)
from catalog.importers.icecat import PART_GLOB, load_icecat
from catalog.models import AttrValue, Money, Product, Sku, Stock
from catalog.product_types import assign_types

# Product-level columns of the flat (one row per SKU) form; the rest describe the SKU.
PRODUCT_FIELDS = (
    "product_id", "brand", "title", "description", "category", "product_type", "released"
)
ATTR_PREFIX, VARIANT_PREFIX = "attr:", "variant:"
_EAN_SPLIT = re.compile(r"[;|,\s]+")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE, _FALSE = {"true", "yes"}, {"false", "no"}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _scalar(value: Any) -> AttrValue:
    """A CSV cell (always text) as the attribute type it spells: bool, int, float or text."""
    if isinstance(value, bool | int | float):
        return value
    s = _text(value)
    low = s.lower()
    if low in _TRUE or low in _FALSE:
        return low in _TRUE
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s):
        return float(s)
    return s


def _price(row: dict[str, Any]) -> Money:
    """Price and currency of a flat row; ``Money`` rejects negatives and unknown currencies."""
    raw = row.get("price")
    if raw is None or _text(raw) == "":
        raise ValueError("missing price")
    if isinstance(raw, bool):
        raise ValueError(f"price is not a number: {raw!r}")
    try:
        amount = Decimal(_text(raw)) if not isinstance(raw, float) else Decimal(repr(raw))
    except InvalidOperation:
        raise ValueError(f"price is not a number: {raw!r}") from None
    if not amount.is_finite():
        raise ValueError(f"price is not a number: {raw!r}")
    if amount < 0:
        raise ValueError(f"negative price {amount}")
    return Money(amount=amount, currency=_text(row.get("currency")) or "USD")


def _stock(row: dict[str, Any]) -> Stock:
    """Stock of a flat row: a quantity, maybe an availability; no quantity means none on hand."""
    raw, availability = row.get("stock"), _text(row.get("availability")) or None
    if raw is None or _text(raw) == "":
        qty = 0
    else:
        try:
            qty = int(_text(raw))
        except ValueError:
            raise ValueError(f"stock must be a whole number, got {raw!r}") from None
        if qty < 0:
            raise ValueError(f"negative stock {qty}")
    synthetic = _scalar(row.get("synthetic")) is True
    return Stock(
        quantity=qty,
        availability=availability or availability_for(qty),  # type: ignore[arg-type]
        synthetic=synthetic,
    )


def _flat_sku(row: dict[str, Any]) -> Sku:
    """The SKU described by one flat row (CSV row or flat JSONL object)."""
    sku = _text(row.get("sku"))
    if not sku:
        raise ValueError("missing sku")
    ean = row.get("ean")
    eans = [_text(e) for e in ean] if isinstance(ean, list) else _EAN_SPLIT.split(_text(ean))
    variants = {
        k[len(VARIANT_PREFIX) :]: _text(v)
        for k, v in row.items()
        if k.startswith(VARIANT_PREFIX) and _text(v)
    }
    if _text(row.get("colour")):
        variants.setdefault("colour", _text(row.get("colour")))
    return Sku(
        sku=sku,
        title=_text(row.get("sku_title")) or _text(row.get("title")) or None,
        model_number=_text(row.get("model_number")) or None,
        ean=[e for e in eans if e],
        variant_attributes=variants,
        price=_price(row),
        stock=_stock(row),
        image_url=_text(row.get("image_url")) or None,
        url=_text(row.get("url")) or None,
    )


@dataclass
class _Group:
    """Flat rows collected under one product_id until the file is read."""

    line: int
    fields: dict[str, Any]
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    skus: list[Sku] = field(default_factory=list)


class _Loader:
    """Collects products and errors for one file, grouping flat rows by product_id."""

    def __init__(self, source: str, tenant: str) -> None:
        self.source, self.tenant = source, tenant
        self.result = ImportResult()
        self.groups: dict[str, _Group] = {}
        self.seen_skus: set[str] = set()

    def error(self, reason: str, record: int | None) -> None:
        self.result.errors.append(InvalidProduct(reason, source=self.source, record=record))

    def add(self, obj: Any, record: int) -> None:
        """Validate one record in either form; record it as a product, a SKU, or an error."""
        self.result.records += 1
        if not isinstance(obj, dict):
            return self.error(f"expected an object, got {type(obj).__name__}", record)
        bad = undecodable_field(obj)
        if bad:
            return self.error(f"invalid UTF-8 in {bad}", record)
        try:
            if "skus" in obj:
                self._add_product(obj, record)
            else:
                self._add_flat(obj, record)
        except (ValidationError, ValueError) as exc:
            self.error(first_error(exc), record)

    def _add_product(self, obj: dict[str, Any], record: int) -> None:
        product = Product.model_validate({**obj, "tenant": self.tenant})
        dupes = [s.sku for s in product.skus if s.sku in self.seen_skus]
        if dupes or len({s.sku for s in product.skus}) < len(product.skus):
            raise ValueError(f"duplicate sku {dupes[0] if dupes else 'within product'}")
        self.seen_skus.update(s.sku for s in product.skus)
        self.result.products.append(product)

    def _add_flat(self, row: dict[str, Any], record: int) -> None:
        sku = _flat_sku(row)
        if sku.sku in self.seen_skus:
            raise ValueError(f"duplicate sku {sku.sku}")
        pid = _text(row.get("product_id")) or sku.sku
        group = self.groups.get(pid)
        if group is None:
            if not _text(row.get("title")):
                raise ValueError("missing title")
            fields = {k: _text(row.get(k)) for k in PRODUCT_FIELDS if _text(row.get(k))}
            attrs = {
                k[len(ATTR_PREFIX) :]: _scalar(v)
                for k, v in row.items()
                if k.startswith(ATTR_PREFIX) and _text(v)
            }
            if isinstance(row.get("attributes"), dict):
                attrs.update({k: _scalar(v) for k, v in row["attributes"].items() if _text(v)})
            group = self.groups[pid] = _Group(
                line=record, fields={**fields, "product_id": pid}, attributes=attrs
            )
        self.seen_skus.add(sku.sku)
        group.skus.append(sku)

    def finish(self) -> ImportResult:
        """Turn the grouped flat rows into products (in order of first appearance)."""
        for group in self.groups.values():
            try:
                self.result.products.append(
                    Product(
                        tenant=self.tenant,
                        attributes=group.attributes,
                        skus=group.skus,
                        **group.fields,
                    )
                )
            except ValidationError as exc:
                self.error(first_error(exc), group.line)
        self.result.products = assign_types(self.result.products)  # the whole file at once
        return self.result


def _load_jsonl(data: bytes, loader: _Loader) -> None:
    """One record per line, decoded line by line so one bad line cannot spoil the file."""
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.strip()
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            loader.result.records += 1
            loader.error(f"invalid UTF-8 at byte {exc.start}", lineno)
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            loader.result.records += 1
            loader.error(f"invalid JSON: {exc}", lineno)
            continue
        loader.add(obj, lineno)


def _load_json(data: bytes, loader: _Loader) -> None:
    """A JSON array of records; the record number is the array index."""
    try:
        items = json.loads(decode_lenient(data))
    except ValueError as exc:
        return loader.error(f"invalid JSON: {exc}", None)
    if isinstance(items, dict) and isinstance(items.get("products"), list):
        items = items["products"]
    if not isinstance(items, list):
        return loader.error("expected a JSON array of products", None)
    for i, obj in enumerate(items):
        loader.add(obj, i)


def _load_csv(data: bytes, loader: _Loader) -> None:
    """One row per SKU with a header; the record number is the row's line in the file."""
    reader = csv.DictReader(io.StringIO(decode_lenient(data), newline=""))
    if not reader.fieldnames or "sku" not in [f.strip() for f in reader.fieldnames]:
        return loader.error("CSV header must include a 'sku' column", 1)
    for row in reader:
        if None in row:
            loader.result.records += 1
            loader.error("more cells than header columns", reader.line_num)
            continue
        if not any(_text(v) for v in row.values()):
            continue
        loader.add({k.strip(): v for k, v in row.items() if k}, reader.line_num)


_FORMATS = {".jsonl": _load_jsonl, ".ndjson": _load_jsonl, ".json": _load_json, ".csv": _load_csv}


def load_products(path: str | Path, *, tenant: str = "demo") -> ImportResult:
    """Load a catalog file in the format its suffix names (``.jsonl``/``.json``/``.csv``[``.gz``]).

    A directory holding ``products_part*.json.gz`` is read as the Icecat dump.
    """
    p = Path(path)
    if p.is_dir():
        if any(p.glob(PART_GLOB)):
            return load_icecat(p, tenant=tenant)
        raise InvalidProduct(f"directory has no {PART_GLOB}", source=str(p))
    suffixes = [s.lower() for s in p.suffixes]
    fmt = suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) > 1 else (suffixes or [""])[-1]
    reader = _FORMATS.get(fmt)
    if reader is None:
        raise InvalidProduct(
            f"unsupported catalog file type {''.join(p.suffixes) or p.name!r}; "
            "use .jsonl, .json or .csv (optionally .gz)",
            source=str(p),
        )
    loader = _Loader(str(p), tenant)
    try:
        data = read_bytes(p)
    except (EOFError, gzip.BadGzipFile) as exc:
        loader.error(f"unreadable file: {exc}", None)
        return loader.result
    reader(data, loader)
    return loader.finish()


def dump_products(products: Iterable[Product], path: str | Path) -> int:
    """Write products as JSONL (gzipped, byte-for-byte reproducible, if the name ends in .gz)."""
    p = Path(path)
    n = 0
    buf = io.BytesIO()
    for product in products:
        buf.write(product.model_dump_json(exclude_none=True).encode("utf-8") + b"\n")
        n += 1
    if p.suffix == ".gz":
        with (
            open(p, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        ):
            gz.write(buf.getvalue())
    else:
        p.write_bytes(buf.getvalue())
    return n
