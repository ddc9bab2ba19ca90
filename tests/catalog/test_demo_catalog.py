"""The bundled demo catalog: loads cleanly, covers the demo's categories, credits its sources."""

from __future__ import annotations

from collections import Counter

from catalog.importers import DEMO_CATALOG, ImportResult, load_products


def test_demo_catalog_loads_cleanly():
    assert DEMO_CATALOG.exists() and DEMO_CATALOG.stat().st_size < 3_000_000
    result = load_products(DEMO_CATALOG)
    assert isinstance(result, ImportResult)
    assert result.errors == []
    assert 4800 <= result.product_count <= 5200
    skus = [s for p in result.products for s in p.skus]
    assert all(s.price.currency == "USD" for s in skus)
    assert all(s.stock.synthetic for s in skus)
    assert len({s.sku for s in skus}) == len(skus)
    assert sum(len(p.skus) > 1 for p in result.products) > 100
    cats = Counter(p.category for p in result.products)
    for wanted in (
        "mouse",
        "keyboard",
        "headphones",
        "speaker",
        "monitor",
        "notebook",
        "usb flash drive",
        "memory card",
        "cable",
        "toner cartridge",
        "ink cartridge",
    ):
        assert cats[wanted] > 0, wanted
    cheap_wireless_mice = [
        p
        for p in result.products
        if p.category == "mouse"
        and "wireless" in p.title.lower()
        and any(s.price.amount < 30 for s in p.skus)
    ]
    assert cheap_wireless_mice


def test_demo_attribution_credits_icecat_and_says_stock_is_synthetic():
    text = (DEMO_CATALOG.parent / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "Product data: Open Icecat (icecat.biz)" in text
    assert '"AS IS"' in text and "without" in text and "warranty" in text
    assert "querqy/chorus" in text and "synthetic" in text.lower()
