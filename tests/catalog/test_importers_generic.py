"""Generic catalog formats: JSON, JSONL (nested and flat) and CSV, plain or gzipped."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from catalog.errors import InvalidProduct
from catalog.importers import dump_products, load_products
from catalog.models import Money, Product, Sku, Stock
from tests.catalog.importer_support import write_part


def product(pid: str = "p1", **kw: Any) -> Product:
    skus = [
        Sku(
            sku=f"{pid}-a",
            title="Mouse Black",
            ean=["123"],
            variant_attributes={"colour": "Black"},
            price=Money(amount=Decimal("19.99")),
            stock=Stock(quantity=5),
            model_number="M1",
        ),
        Sku(
            sku=f"{pid}-b",
            variant_attributes={"colour": "Red"},
            price=Money(amount=Decimal("1234.50"), currency="EUR"),
            stock=Stock(
                quantity=0, availability="out_of_stock", warehouses={"east": 0}, synthetic=True
            ),
        ),
    ]
    fields: dict[str, Any] = {
        "product_id": pid,
        "brand": "Acme",
        "title": "Mouse",
        "description": "Quiet",
        "category": "mouse",
        "attributes": {"dpi": 1600, "wireless": True, "weight": 90.5, "colour family": "dark"},
        "skus": skus,
    }
    fields.update(kw)
    return Product(**fields)


@pytest.mark.parametrize("name", ["cat.jsonl", "cat.jsonl.gz"])
def test_jsonl_round_trip(tmp_path, name):
    products = [product("p1"), product("p2", tenant="other", released="2020-01-01")]
    path = tmp_path / name
    assert dump_products(products, path) == 2
    result = load_products(path)
    assert result.errors == [] and result.records == 2
    assert result.products == [p.model_copy(update={"tenant": "demo"}) for p in products]


def test_gzip_output_is_reproducible(tmp_path):
    dump_products([product()], tmp_path / "a.jsonl.gz")
    dump_products([product()], tmp_path / "b.jsonl.gz")
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


@pytest.mark.parametrize("name", ["cat.json", "cat.json.gz"])
def test_json_array_round_trip(tmp_path, name):
    p = product()
    data = json.dumps([p.model_dump(mode="json")]).encode()
    path = tmp_path / name
    if name.endswith(".gz"):
        write_part(path, data)
    else:
        path.write_bytes(data)
    result = load_products(path, tenant="t1")
    assert result.errors == []
    assert result.products == [p.model_copy(update={"tenant": "t1"})]


CSV_TEXT = """\
product_id,sku,brand,title,description,category,price,currency,stock,availability,model_number,ean,colour,attr:dpi,attr:wireless,attr:weight,variant:size
m1,M1-BLK,Logi,Wireless Mouse,Quiet,mouse,19.99,USD,12,,M1,501;502,Black,1600,true,90.5,
m1,M1-RED,Logi,Wireless Mouse,Quiet,mouse,21.99,usd,0,,M1,,Red,1600,true,90.5,L
k1,K1,Logi,Keyboard,,keyboard,34.50,EUR,2,preorder,,,,,,,
"""


@pytest.mark.parametrize("name", ["cat.csv", "cat.csv.gz"])
def test_csv_rows_group_into_products(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".gz"):
        write_part(path, CSV_TEXT.encode())
    else:
        path.write_text(CSV_TEXT, encoding="utf-8")
    result = load_products(path)
    assert result.errors == [] and result.records == 3
    mouse, kb = result.products
    assert (mouse.product_id, mouse.brand, mouse.category) == ("m1", "Logi", "mouse")
    assert mouse.attributes == {"dpi": 1600, "wireless": True, "weight": 90.5}
    blk, red = mouse.skus
    assert blk.price == Money(amount=Decimal("19.99"), currency="USD")
    assert blk.ean == ["501", "502"] and blk.model_number == "M1"
    assert blk.stock == Stock(quantity=12, availability="in_stock")
    assert red.stock.availability == "out_of_stock" and red.price.currency == "USD"
    assert red.variant_attributes == {"size": "L", "colour": "Red"}
    assert kb.skus[0].price == Money(amount=Decimal("34.50"), currency="EUR")
    assert kb.skus[0].stock.availability == "preorder"


def test_flat_jsonl_form_groups_by_product_id(tmp_path):
    lines = [
        {
            "product_id": "m1",
            "sku": "A",
            "title": "Mouse",
            "price": "9.99",
            "colour": "Black",
            "ean": ["1", "2"],
            "attributes": {"dpi": 800},
        },
        {"product_id": "m1", "sku": "B", "title": "Mouse", "price": 10.5, "colour": "White"},
        {"sku": "C", "title": "Cable", "price": "1", "stock": 2},
    ]
    path = tmp_path / "flat.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = load_products(path)
    assert result.errors == []
    mouse, cable = result.products
    assert [s.sku for s in mouse.skus] == ["A", "B"] and mouse.attributes == {"dpi": 800}
    assert mouse.skus[1].price.amount == Decimal("10.5")
    assert cable.product_id == "C" and cable.skus[0].stock.availability == "low_stock"


BAD_LINES = [
    (b'{"sku": "", "title": "x", "price": "1"}', "missing sku"),
    (b'{"title": "x", "price": "1"}', "missing sku"),
    (b'{"sku": "Z", "title": "x", "price": "-1"}', "negative price"),
    (b'{"sku": "Z", "title": "x", "price": "1", "currency": "USS"}', "unknown currency"),
    (b'{"sku": "Z", "title": "x", "price": "abc"}', "not a number"),
    (b'{"sku": "Z", "title": "x"}', "missing price"),
    (b'{"sku": "Z", "price": "1"}', "missing title"),
    (b'{"sku": "Z", "title": "x", "price": "1.999"}', "decimal"),
    (b'{"sku": "Z", "title": "caf\xe9", "price": "1"}', "invalid UTF-8"),
    (b'{"sku": "Z", "title": "x", "price": "1"', "invalid JSON"),
    (b'{"product_id": "q", "title": "x", "skus": []}', "skus"),
    (b'{"sku": "A", "title": "dup", "price": "1"}', "duplicate sku"),
    (b"[1, 2]", "expected an object"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_bad_jsonl_line_is_reported_and_the_rest_loads(tmp_path, line, reason):
    path = tmp_path / "cat.jsonl"
    good1 = b'{"sku": "A", "title": "Mouse", "price": "9.99"}'
    good2 = b'{"sku": "B", "title": "Keyboard", "price": "19.99"}'
    path.write_bytes(good1 + b"\n" + line + b"\n\n" + good2 + b"\n")
    result = load_products(path)
    assert [p.skus[0].sku for p in result.products] == ["A", "B"]
    (err,) = result.errors
    assert (err.source, err.record) == (str(path), 2)
    assert reason.lower() in err.reason.lower()


def test_bad_utf8_row_in_csv_is_reported_alone(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_bytes(b"sku,title,price\nA,Mouse,1.00\nB,Caf\xe9,2.00\nC,Cable,3\n")
    result = load_products(path)
    assert [p.product_id for p in result.products] == ["A", "C"]
    (err,) = result.errors
    assert (err.record, "UTF-8" in err.reason) == (3, True)


def test_bad_csv_rows_report_their_line(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text(
        "sku,title,price,currency\nA,Mouse,1.00,USD\n,NoSku,1,USD\nB,Neg,-2,USD\n"
        "C,Cur,2,XXX\nD,Ok,4,GBP\n",
        encoding="utf-8",
    )
    result = load_products(path)
    assert [p.product_id for p in result.products] == ["A", "D"]
    assert [(e.record, e.source) for e in result.errors] == [
        (3, str(path)),
        (4, str(path)),
        (5, str(path)),
    ]
    assert [
        "missing sku" in result.errors[0].reason,
        "negative" in result.errors[1].reason,
        "currency" in result.errors[2].reason,
    ] == [True, True, True]


def test_invalid_json_file_and_unsupported_suffix(tmp_path):
    (tmp_path / "cat.json").write_text("[{", encoding="utf-8")
    result = load_products(tmp_path / "cat.json")
    assert result.products == [] and "invalid JSON" in result.errors[0].reason
    (tmp_path / "cat.xml").write_text("<x/>", encoding="utf-8")
    with pytest.raises(InvalidProduct, match="unsupported"):
        load_products(tmp_path / "cat.xml")
