"""Invariants of the atomic chunker: one chunk per SKU, no volatile data, stable ids and hashes."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.models import Money, Product, Sku, Stock
from ingestion.chunker import DESCRIPTION_CHARS, chunk_product, chunk_sku
from search.payload import normalise_colours, normalise_model, point_id

MODEL = "test-model"
BANNED = ("price", "stock", "promotion", "availability")
words = st.text(
    alphabet=st.characters(whitelist_categories=("L", "Nd")), min_size=1, max_size=12
).filter(lambda w: not any(b in w.lower() for b in BANNED))
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@st.composite
def products(draw: st.DrawFn) -> Product:
    n = draw(st.integers(min_value=1, max_value=5))
    skus = [
        Sku(
            sku=f"S{i}-{draw(words)}",
            model_number=draw(st.one_of(st.none(), words)),
            ean=[draw(st.from_regex(r"\d{13}", fullmatch=True))],
            variant_attributes={"colour": draw(st.sampled_from(["Black", "White", "Red,Blue"]))},
            price=Money(amount=draw(prices), currency="USD"),
            stock=Stock(quantity=draw(st.integers(0, 500))),
        )
        for i in range(n)
    ]
    return Product(
        tenant=draw(st.sampled_from(["demo", "shop-b"])),
        product_id=draw(words),
        brand=draw(words),
        title=" ".join(draw(st.lists(words, min_size=1, max_size=8))),
        description=" ".join(draw(st.lists(words, max_size=200))),
        attributes={"product type": draw(words), "connectivity technology": "Wireless"},
        skus=skus,
    )


@given(products())
@settings(max_examples=60, deadline=None)
def test_exactly_one_chunk_per_sku_and_no_mixing(product: Product) -> None:
    chunks = chunk_product(product, model_id=MODEL)
    assert [c.sku for c in chunks] == [s.sku for s in product.skus]
    for chunk, sku in zip(chunks, product.skus, strict=True):
        # never several SKUs in one chunk: no other SKU id appears in this chunk's text
        others = [s.sku for s in product.skus if s.sku != sku.sku and s.sku not in sku.sku]
        assert not any(o in chunk.text for o in others)
        assert chunk.payload["sku"] == sku.sku


@given(products())
@settings(max_examples=60, deadline=None)
def test_price_stock_promotion_never_in_text(product: Product) -> None:
    for chunk, sku in zip(chunk_product(product, model_id=MODEL), product.skus, strict=True):
        lowered = chunk.text.lower()
        for word in ("price", "stock", "promotion", "$", "in_stock", "availability"):
            assert word not in lowered
        assert f"{sku.price.amount:.2f}" not in chunk.text


def test_volatile_attributes_are_dropped_from_text() -> None:
    sku = Sku(
        sku="A1",
        variant_attributes={"promo price": "9.99", "colour": "Black"},
        price=Money(amount=Decimal("19.99")),
        stock=Stock(quantity=3),
    )
    product = Product(product_id="p", title="Mouse", attributes={"price": "19.99"}, skus=[sku])
    chunk = chunk_sku(product, sku, model_id=MODEL)
    assert "9.99" not in chunk.text and "19.99" not in chunk.text
    assert "colour: Black" in chunk.text


@given(products())
@settings(max_examples=40, deadline=None)
def test_point_id_is_uuid5_of_tenant_and_sku(product: Product) -> None:
    for chunk in chunk_product(product, model_id=MODEL):
        assert chunk.point_id == point_id(product.tenant, chunk.sku)
        assert uuid.UUID(chunk.point_id).version == 5
    other = product.model_copy(update={"tenant": product.tenant + "x"})
    assert (
        chunk_product(other, model_id=MODEL)[0].point_id
        != chunk_product(product, model_id=MODEL)[0].point_id
    )


@given(products(), prices, st.integers(0, 999))
@settings(max_examples=40, deadline=None)
def test_hash_ignores_price_and_stock_but_follows_text(
    product: Product, price: Decimal, qty: int
) -> None:
    before = chunk_product(product, model_id=MODEL)
    repriced = product.model_copy(
        update={
            "skus": [
                s.model_copy(update={"price": Money(amount=price), "stock": Stock(quantity=qty)})
                for s in product.skus
            ]
        }
    )
    after = chunk_product(repriced, model_id=MODEL)
    assert [c.content_hash for c in before] == [c.content_hash for c in after]
    assert [c.payload["price"] for c in after] == [float(price)] * len(after)
    retitled = product.model_copy(update={"title": product.title + " Pro"})
    assert all(
        a.content_hash != b.content_hash
        for a, b in zip(before, chunk_product(retitled, model_id=MODEL), strict=True)
        if product.skus[0].title is None
    )
    assert chunk_product(product, model_id="other")[0].content_hash != before[0].content_hash


@given(products())
@settings(max_examples=40, deadline=None)
def test_text_is_labelled_and_description_bounded(product: Product) -> None:
    chunk = chunk_product(product, model_id=MODEL)[0]
    lines = chunk.text.splitlines()
    assert lines[0].startswith("Product: ")
    assert f"Brand: {product.brand}" in lines
    desc = [line for line in lines if line.startswith("Description: ")]
    assert all(len(d) <= len("Description: ") + DESCRIPTION_CHARS + 1 for d in desc)
    assert "- connectivity technology: Wireless" in lines


def test_payload_carries_filter_fields() -> None:
    sku = Sku(
        sku="X9",
        model_number="CF-226X",
        ean=["0889894813253"],
        variant_attributes={"colour": "Gray, Black"},
        price=Money(amount=Decimal("12.50")),
        stock=Stock(quantity=0, availability="out_of_stock"),
    )
    product = Product(
        tenant="t1",
        product_id="p9",
        brand="HP",
        title="HP 26X toner",
        category="Toner cartridge",
        attributes={"type": "Original"},
        skus=[sku],
    )
    p = chunk_sku(product, sku, model_id=MODEL, version=42).payload
    assert p["tenant"] == "t1" and p["sku"] == "X9" and p["product_id"] == "p9"
    assert p["brand"] == "hp" and p["brand_display"] == "HP"
    assert p["colour"] == ["grey", "black"]
    assert p["model_number"] == "cf226x"
    assert p["ean"] == ["0889894813253"]
    assert p["in_stock"] == 0 and p["price"] == 12.5 and p["version"] == 42
    assert "type=original" in p["facets"] and "colour=gray, black" in p["facets"]
    assert len(p["content_hash"]) == 32


def test_normalisers() -> None:
    assert normalise_colours("Black,Silver") == ["black", "silver"]
    assert normalise_colours("Multicolor") == ["multicolour"]
    assert normalise_colours(None) == []
    assert normalise_model(" HP 301 ") == "hp301"
    assert normalise_model("CF-226X/26X") == "cf226x26x"


def test_text_does_not_depend_on_attribute_order() -> None:
    """A SKU read back from the SoR (JSON key order not kept) must hash the same."""

    def make(attrs: dict[str, str]) -> str:
        sku = Sku(
            sku="A",
            variant_attributes=attrs,
            price=Money(amount=Decimal("1")),
            stock=Stock(quantity=1),
        )
        return chunk_sku(
            Product(product_id="p", title="T", skus=[sku]), sku, model_id=MODEL
        ).content_hash

    assert make({"weight": "270", "colour": "Black", "form factor": "Ambidextrous"}) == make(
        {"colour": "Black", "form factor": "Ambidextrous", "weight": "270"}
    )
