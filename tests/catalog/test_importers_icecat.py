"""Icecat importer: grouping records into products and variants, prices, stock, validation."""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.errors import InvalidProduct
from catalog.importers import load_icecat, load_products, synthetic_stock
from catalog.importers.categories import categorise
from catalog.importers.icecat import readable_key
from catalog.models import Money
from tests.catalog.importer_support import write_part
from tests.shared_data import ICECAT, JUDGMENTS, needs_icecat


def rec(rid: str, **kw: Any) -> dict[str, Any]:
    """A minimal valid Icecat record."""
    base: dict[str, Any] = {
        "id": rid,
        "name": f"MPN-{rid}",
        "title": f"Acme MPN-{rid} mouse",
        "ean": [f"00{rid}"],
        "supplier": "Acme",
        "price": 1999,
        "date_released": "2020-01-02T00:00:00Z",
        "img_500x500": f"http://img/{rid}.jpg",
        "short_description": "A mouse",
    }
    base.update(kw)
    return base


def test_records_sharing_supplier_and_name_become_one_product_with_colour_variants(tmp_path):
    shared = {
        "name": "M100",
        "attr_t_connectivity_technology": "Wireless",
        "attr_n_weight": 90.0,
        "attr_b_bluetooth": True,
    }
    write_part(
        tmp_path / "products_part1.json.gz",
        [
            rec("20", title="Acme M100 mouse Red", attr_t_product_colour="Red", **shared),
            rec("7", title="Acme M100 mouse Black", attr_t_product_colour="Black", **shared),
            rec("9", name="K1", title="Acme K1 keyboard"),
        ],
    )
    result = load_icecat(tmp_path)
    assert result.errors == []
    assert result.records == 3
    assert result.product_count == 2 and result.sku_count == 3
    mouse = next(p for p in result.products if len(p.skus) == 2)
    assert mouse.product_id == "icecat-7"  # smallest record id, numerically
    assert [s.sku for s in mouse.skus] == ["7", "20"]
    assert [s.variant_attributes for s in mouse.skus] == [{"colour": "Black"}, {"colour": "Red"}]
    assert [s.title for s in mouse.skus] == ["Acme M100 mouse Black", "Acme M100 mouse Red"]
    assert mouse.brand == "Acme" and mouse.category == "mouse"
    assert mouse.attributes == {
        "connectivity technology": "Wireless",
        "weight": 90,
        "bluetooth": True,
    }
    assert isinstance(mouse.attributes["weight"], int)
    assert mouse.skus[0].model_number == "M100"
    assert mouse.skus[0].image_url == "http://img/7.jpg"
    assert mouse.description == "A mouse" and mouse.released == "2020-01-02"
    assert all(p.tenant == "demo" for p in result.products)


def test_pack_size_differences_are_variants_and_tenant_is_a_parameter(tmp_path):
    write_part(
        tmp_path / "products_part1.json.gz",
        [
            rec("1", name="T", attr_n_quantity_per_pack=1.0, attr_n_page_yield=2000.0),
            rec("2", name="T", attr_n_quantity_per_pack=6.0, attr_n_page_yield=2000.0),
        ],
    )
    (product,) = load_icecat(tmp_path, tenant="shop2").products
    assert product.tenant == "shop2"
    assert [s.variant_attributes for s in product.skus] == [{"pack size": "1"}, {"pack size": "6"}]
    assert product.attributes == {"page yield": 2000}


def test_readable_keys():
    assert readable_key("attr_t_product_colour") == "colour"
    assert readable_key("attr_n_quantity_per_pack") == "pack size"
    assert readable_key("attr_t_contrast_ratio__typical_") == "contrast ratio typical"
    assert readable_key("attr_b_wi_fi") == "wi fi"


@pytest.mark.parametrize(
    ("cents", "expected"),
    [(1999, "19.99"), (95, "0.95"), (100, "1.00"), (0, "0.00"), (123456789, "1234567.89")],
)
def test_cents_become_exact_dollars(tmp_path, cents, expected):
    write_part(tmp_path / "products_part1.json.gz", [rec("1", price=cents)])
    (product,) = load_icecat(tmp_path).products
    assert product.skus[0].price == Money(amount=Decimal(expected), currency="USD")
    assert str(product.skus[0].price.amount) == expected


@settings(max_examples=60, deadline=None)
@given(cents=st.integers(min_value=0, max_value=10**12))
def test_any_cents_round_trip_exactly(tmp_path_factory, cents):
    d = tmp_path_factory.mktemp("c")
    write_part(d / "products_part1.json.gz", [rec("1", price=cents)])
    (product,) = load_icecat(d).products
    amount = product.skus[0].price.amount
    assert amount * 100 == cents and amount.as_tuple().exponent == -2


def test_synthetic_stock_is_deterministic_labelled_and_plausible(tmp_path):
    write_part(tmp_path / "products_part1.json.gz", [rec(str(i), name=f"N{i}") for i in range(50)])
    first = [s.stock for p in load_icecat(tmp_path).products for s in p.skus]
    second = [s.stock for p in load_icecat(tmp_path).products for s in p.skus]
    assert first == second
    assert all(s.synthetic for s in first)
    stocks = [synthetic_stock(f"sku-{i}") for i in range(4000)]
    assert stocks == [synthetic_stock(f"sku-{i}") for i in range(4000)]
    share = Counter(s.availability for s in stocks)
    assert 0.12 < share["out_of_stock"] / 4000 < 0.18
    assert 0.03 < share["low_stock"] / 4000 < 0.07
    for s in stocks:
        assert s.synthetic and set(s.warehouses) == {"east", "west"}
        assert sum(s.warehouses.values()) == s.quantity
        assert (s.quantity == 0) == (s.availability == "out_of_stock")
        assert s.availability != "low_stock" or 1 <= s.quantity <= 3
        assert 0 <= s.quantity <= 120


BAD_RECORDS = [
    ({"id": None}, "missing id"),
    ({"id": "  "}, "missing id"),
    ({"price": -5}, "negative price"),
    ({"price": 19.99}, "integer"),
    ({"price": "1999"}, "integer"),
    ({"title": ""}, "missing title"),
]


@pytest.mark.parametrize(("patch", "reason"), BAD_RECORDS)
def test_bad_record_is_reported_with_file_and_index_and_the_rest_loads(tmp_path, patch, reason):
    bad = rec("2")
    bad.update(patch)
    part = write_part(tmp_path / "products_part1.json.gz", [rec("1"), bad, rec("3")])
    result = load_icecat(tmp_path)
    assert [s.sku for p in result.products for s in p.skus] == ["1", "3"]
    (err,) = result.errors
    assert isinstance(err, InvalidProduct)
    assert err.source == str(part) and err.record == 1
    assert reason in err.reason
    assert str(part) in str(err) and ":1:" in str(err)


def test_undecodable_text_is_reported_per_record(tmp_path):
    good = json.dumps(rec("1")).encode()
    bad = json.dumps(rec("2", title="Acme XTITLEX mouse")).encode().replace(b"XTITLEX", b"\xff\xfe")
    part = write_part(tmp_path / "products_part1.json.gz", b"[" + good + b"," + bad + b"]")
    result = load_icecat(tmp_path)
    assert [p.skus[0].sku for p in result.products] == ["1"]
    (err,) = result.errors
    assert (err.source, err.record) == (str(part), 1)
    assert "UTF-8" in err.reason and "title" in err.reason


def test_a_corrupt_part_file_is_reported_and_other_parts_still_load(tmp_path):
    (tmp_path / "products_part1.json.gz").write_bytes(b"\x1f\x8bnot really gzip")
    write_part(tmp_path / "products_part2.json.gz", [rec("5")])
    result = load_icecat(tmp_path)
    assert [p.product_id for p in result.products] == ["icecat-5"]
    (err,) = result.errors
    assert err.source.endswith("products_part1.json.gz") and err.record is None


def test_limit_caps_products_and_directory_dispatch(tmp_path):
    write_part(tmp_path / "products_part1.json.gz", [rec(str(i), name=f"N{i}") for i in range(10)])
    assert load_icecat(tmp_path, limit=3).product_count == 3
    assert load_products(tmp_path).product_count == 10


@pytest.mark.parametrize(
    ("title", "category"),
    [
        ('HP Pavilion dv7 Notebook Silver 43.2 cm (17") 250 GB HDD', "notebook"),
        ("StarTech.com 15 ft VGA Monitor Cable - HD15 M/M", "cable"),
        ('HP LP2475w 24-inch Widescreen LCD Monitor 61 cm (24") Black', "monitor"),
        ("Sony PRSASC3W tablet case White", "case"),
        ("Kensington K72334US mouse RF Wireless Laser", "mouse"),
        ("Xerox 006R90321 toner cartridge Original Black 6 pc(s)", "toner cartridge"),
        ("Kingston Canvas Go! Plus memory card 64 GB MicroSD Class 10", "memory card"),
        ("Integral EVO USB flash drive 4 GB USB Type-A 2 Blue", "usb flash drive"),
        ("Philips SHE3584/28 headphones/headset In-ear Blue", "headphones"),
        ("HP 49A Original Black 1 pc(s)", None),
        ("Matrox TripleHead2Go Digital Edition", None),
    ],
)
def test_category_rules(title, category):
    assert categorise(title) == category


def test_printing_supplies_without_a_category_word_use_attributes(tmp_path):
    write_part(
        tmp_path / "products_part1.json.gz",
        [
            rec(
                "1", title="HP 83 Original Black 1 pc(s)", attr_t_print_technology="Inkjet printing"
            ),
            rec("2", title="HP 49A Original Black 1 pc(s)", attr_n_black_toner_page_yield=2500.0),
        ],
    )
    cats = {p.product_id: p.category for p in load_icecat(tmp_path).products}
    assert cats == {"icecat-1": "ink cartridge", "icecat-2": "toner cartridge"}


@pytest.mark.slow
@needs_icecat
def test_full_icecat_dump_loads_cleanly_with_record_ids_as_skus():
    result = load_icecat(ICECAT)
    assert result.errors == [] and result.records == 19406 and result.sku_count == 19406
    assert 17000 < result.product_count < 19406
    skus = {s.sku for p in result.products for s in p.skus}
    assert len(skus) == 19406
    if JUDGMENTS.exists():
        with JUDGMENTS.open(encoding="utf-8") as fh:
            docids = {row["docid"] for row in csv.DictReader(fh)}
        assert docids <= skus
