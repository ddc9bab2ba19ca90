"""Product types learned from one catalog batch: the head noun phrase, so accessories stay so."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import AttrValue, Money, Product, Sku, Stock
from catalog.product_types import assign_types, lower_run, untyped_share


def item(pid: str, brand: str, title: str, model: str | None = None,
         attrs: dict[str, AttrValue] | None = None, product_type: str | None = None) -> Product:
    sku = Sku(sku=pid, model_number=model, price=Money(amount=Decimal("9.99")),
              stock=Stock(quantity=3))
    return Product(product_id=pid, brand=brand, title=title, attributes=attrs or {},
                   product_type=product_type, skus=[sku])


# A mixed shop: structured titles ("<brand> <model> <type> <specs>") teach the lexicon, free
# titles are typed by their head noun, clothing and homeware by their own words.
CATALOG = [
    item("l1", "Kensington", "Kensington K64673 cable lock Black 1.8 m", "K64673"),
    item("l2", "Kensington", "Kensington K64674 cable lock Grey 1.5 m", "K64674"),
    item("l3", "Kensington", "Kensington laptop lock"),
    item("m1", "Fellowes", "Fellowes 5933 mouse pad Black", "5933", {"colour": "Black"}),
    item("m2", "Fellowes", "Fellowes 5934 mouse pad Blue", "5934", {"colour": "Blue"}),
    item("m3", "3M", "3M Post-it writing pad"),
    item("i1", "HP", "HP 301 ink cartridge Original Black 1 pc(s)", "301"),
    item("i2", "HP", "HP 302 ink cartridge Original Tri-colour 1 pc(s)", "302"),
    item("i3", "HP", "HP 303 ink cartridge Original Black 1 pc(s)", "303"),
    item("n1", "Lenovo", "Lenovo E14 notebook Black 35.6 cm (14\") Intel Core i5", "E14"),
    item("n2", "Lenovo", "Lenovo E15 notebook Black 39.6 cm (15.6\") Intel Core i7", "E15"),
    item("n3", "HP", "HP ProBook 450 G8 Notebook 39.6 cm Intel Core i5 Windows 11 Pro"),
    item("s1", "Targus", "Targus TSS931 notebook sleeve Black", "TSS931"),
    item("s2", "Targus", "Targus TSS932 notebook sleeve Grey", "TSS932"),
    item("s3", "Targus", "Targus Slim sleeve for 15.6 inch laptops"),
    item("c1", "StarTech.com", "StarTech.com N6PATCH1MBL networking cable 1 m Blue", "N6PATCH1MBL"),
    item("c2", "C2G", "C2G 81 networking cable 2 m Gray", "81"),
    item("c3", "StarTech.com",
         "StarTech.com 150 ft Coax High Resolution Monitor VGA Extension Cable - HD15 M/F"),
    item("h1", "IKEA", "IKEA KALLAX shelving unit white", "KALLAX", {"colour": "White"}),
    item("h2", "IKEA", "IKEA HEMNES shelving unit black-brown", "HEMNES",
         {"colour": "Black-brown"}),
    item("h3", "IKEA", "IKEA Kallax Insert with Door"),
    item("j1", "Levi's", "Levi's 501 Original Fit Men's Jeans"),
    item("j2", "Wrangler", "Wrangler Texas Stretch Jeans, Blue"),
    item("j3", "Lee", "Lee Rider Slim Jeans"),
    item("d1", "Dunelm", "Dunelm Cotton Duvet Cover Double", attrs={"product type": "Duvet cover"}),
    item("d2", "Dunelm", "Dunelm Linen Duvet Cover King", attrs={"product type": "Duvet cover"}),
    item("g1", "Acme", "Acme Thing", product_type="Gift Card"),
]


@pytest.fixture(scope="module")
def typed() -> dict[str, str | None]:
    return {p.product_id: p.product_type for p in assign_types(CATALOG)}


@pytest.mark.parametrize(("pid", "expected"), [
    ("l1", "cable lock"),
    ("l3", "lock"),  # a laptop lock is a lock, not a laptop
    ("m3", "pad"),  # a writing pad is a pad, not a notebook
    ("i1", "ink cartridge"),  # the phrase after the model code, "Original Black" dropped
    ("n1", "notebook"),
    ("n3", "notebook"),  # capitalised, no model code: the lexicon's rightmost phrase
    ("s3", "sleeve"),  # "X for laptops" is an X
    ("c3", "cable"),  # the head noun, not the "Monitor" it is for
    ("h1", "shelving unit"),  # the catalog's own colour is not part of the type
    ("h2", "shelving unit"),
    ("j1", "jeans"),  # no structure anywhere: the head noun titles share
    ("j2", "jeans"),
    ("d1", "duvet cover"),  # the product's own "product type" attribute
    ("g1", "gift card"),  # a type the catalog states is kept
])
def test_head_product_type(typed: dict[str, str | None], pid: str, expected: str) -> None:
    assert typed[pid] == expected


def test_every_product_of_the_batch_is_typed(typed: dict[str, str | None]) -> None:
    assert untyped_share(assign_types(CATALOG)) < 0.1
    assert sum(t is None for t in typed.values()) <= 2


def test_a_title_of_unseen_words_gets_no_guess() -> None:
    batch = [*CATALOG, item("x1", "Zed", "Zed Qwxz Vbnm")]
    assert {p.product_id: p.product_type for p in assign_types(batch)}["x1"] is None


def test_lower_run_stops_at_specs() -> None:
    assert lower_run(" toner cartridge Original Black 1 pc(s)") == "toner cartridge"
    assert lower_run(" processor 2.4 GHz Box") == "processor"
    assert lower_run(" shelving unit white", frozenset({"white"})) == "shelving unit"
    assert lower_run(" Original Black") is None
