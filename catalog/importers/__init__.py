"""Catalog importers: Open Icecat, a documented generic format, and the bundled demo catalog."""

from __future__ import annotations

from pathlib import Path

from catalog.importers.base import ImportResult, synthetic_stock
from catalog.importers.generic import dump_products, load_products
from catalog.importers.icecat import load_icecat

# Shipped inside the package (``[tool.setuptools.package-data]``): the demo needs no /work/shared.
DEMO_CATALOG: Path = Path(__file__).resolve().parent.parent / "data" / "demo_catalog.jsonl.gz"

__all__ = [
    "DEMO_CATALOG",
    "ImportResult",
    "dump_products",
    "load_icecat",
    "load_products",
    "synthetic_stock",
]
