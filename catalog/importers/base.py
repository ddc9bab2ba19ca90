"""Shared pieces of the catalog importers: the result type, synthetic stock, value normalisation."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import InvalidProduct
from catalog.models import AttrValue, Product, Stock

_STOCK_SALT = b"shopkeeper-synthetic-stock-v1:"


@dataclass
class ImportResult:
    """What one import produced: the products that loaded, and why each other record did not."""

    products: list[Product] = field(default_factory=list)
    errors: list[InvalidProduct] = field(default_factory=list)
    records: int = 0  # input records seen (lines, rows, array items), good or bad

    @property
    def product_count(self) -> int:
        return len(self.products)

    @property
    def sku_count(self) -> int:
        return sum(len(p.skus) for p in self.products)

    @property
    def error_count(self) -> int:
        return len(self.errors)

    def extend(self, other: ImportResult) -> None:
        """Merge another file's result into this one (used when loading several files)."""
        self.products.extend(other.products)
        self.errors.extend(other.errors)
        self.records += other.records


def synthetic_stock_fields(sku: str) -> dict[str, Any]:
    """The fields of ``synthetic_stock`` as a plain dict, for bulk loaders that validate once."""
    h = hashlib.sha256(_STOCK_SALT + sku.encode("utf-8", "surrogatepass")).digest()
    u = int.from_bytes(h[:8], "big") / 2**64
    if u < 0.15:
        qty, availability = 0, "out_of_stock"
    elif u < 0.20:
        qty, availability = 1 + h[8] % 3, "low_stock"
    else:
        qty, availability = 4 + int.from_bytes(h[8:10], "big") % 117, "in_stock"  # 4..120
    east = qty * h[10] // 255
    return {
        "quantity": qty,
        "availability": availability,
        "warehouses": {"east": east, "west": qty - east},
        "synthetic": True,
    }


def synthetic_stock(sku: str) -> Stock:
    """Demo stock derived from the SKU id alone, so every run and every process agrees on it.

    About 80% in stock (4-120 units), 5% low stock (1-3), 15% out of stock, split over two
    warehouses; always ``synthetic=True`` so nobody mistakes it for a real count.
    """
    return Stock(**synthetic_stock_fields(sku))


def availability_for(quantity: int) -> str:
    """Availability implied by a bare quantity, for inputs that give only a number."""
    return "out_of_stock" if quantity <= 0 else "low_stock" if quantity <= 3 else "in_stock"


def read_bytes(path: Path) -> bytes:
    """Read a file, transparently gunzipping ``*.gz`` so every format also works compressed."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def decode_lenient(data: bytes) -> str:
    """Decode UTF-8 keeping bad bytes as lone surrogates, so one bad record is reported alone."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "surrogateescape")


def undecodable_field(value: Any, path: str = "") -> str | None:
    """Name the first string inside ``value`` that is not valid Unicode text, else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "value"
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            bad = undecodable_field(k, path) or undecodable_field(
                v, f"{path}.{k}" if path else str(k)
            )
            if bad:
                return bad
    elif isinstance(value, list):
        for i, v in enumerate(value):
            bad = undecodable_field(v, f"{path}[{i}]")
            if bad:
                return bad
    return None


def attr_value(value: Any) -> AttrValue:
    """Attribute value as the model stores it: bools stay bools, whole floats become ints."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return str(value)


def attr_text(value: AttrValue) -> str:
    """Attribute value as variant text: ``6.0`` -> ``"6"``, ``True`` -> ``"yes"``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def first_error(exc: Exception) -> str:
    """A one-line reason from a pydantic ValidationError (or any exception)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            items = errors()
        except Exception:
            items = []
        if items:
            e = items[0]
            loc = ".".join(str(x) for x in e.get("loc", ()))
            msg = str(e.get("msg", exc))
            return f"{loc}: {msg}" if loc else msg
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
