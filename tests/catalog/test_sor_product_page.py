"""The product-page ``url`` of a SKU in the system of record (schema version 2), both backends."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from catalog import minor_units, page_url
from catalog.importers import load_products
from catalog.models import Product
from catalog.sor.base import SystemOfRecord
from catalog.sor.postgres import PostgresSor
from catalog.sor.sqlite import SqliteSor
from tests.catalog.sor_support import PG_URL, last_id, ops, raw, sku


def product(url: str | None) -> Product:
    return Product(tenant="t", product_id="p1", title="Mouse", skus=[sku("S1", url=url)])


async def test_url_round_trips_and_a_new_url_is_an_upsert(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("https://shop.example/p/S1")])
    got = await sor.get_product_by_sku("t", "S1")
    assert got is not None and got.skus[0].url == "https://shop.example/p/S1"
    assert [p.skus[0].url async for p in sor.iter_products("t")] == ["https://shop.example/p/S1"]

    before = last_id(sor)
    await sor.upsert_products([product("/p/S1")])
    assert ops(sor, before) == [("S1", "upsert")]  # the index must learn the new page
    before = last_id(sor)
    await sor.upsert_products([product("/p/S1")])
    assert ops(sor, before) == []  # unchanged: no outbox row


async def _reopen(store: SystemOfRecord) -> SystemOfRecord:
    schema = store.schema_for_tests  # type: ignore[attr-defined]
    again: SystemOfRecord = (SqliteSor(store.url) if isinstance(store, SqliteSor) else
                             PostgresSor(PG_URL, schema=schema))
    again.schema_for_tests = schema  # type: ignore[attr-defined]
    await again.open()
    return again


async def test_a_version_1_database_gains_the_column_in_place(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product(None)])
    await sor.close()
    # Turn it back into a version-1 database, as an older Shopkeeper left it.
    if isinstance(sor, SqliteSor):
        for trigger in ("insert", "delete", "rekey", "upsert", "price", "stock"):
            raw(sor, f"DROP TRIGGER skus_outbox_{trigger}")
        raw(sor, "ALTER TABLE skus DROP COLUMN url")
        raw(sor, "PRAGMA user_version = 1")
    else:
        raw(sor, "DROP TRIGGER skus_outbox ON skus")
        raw(sor, "ALTER TABLE skus DROP COLUMN url")
        raw(sor, "UPDATE shopkeeper_schema SET version = 1")
    migrated = await _reopen(sor)
    try:
        old = await migrated.get_product_by_sku("t", "S1")
        assert old is not None and old.skus[0].url is None
        before = last_id(migrated)
        await migrated.upsert_products([product("https://shop.example/p/S1")])
        assert ops(migrated, before) == [("S1", "upsert")], "triggers were rebuilt"
        new = await migrated.get_product_by_sku("t", "S1")
        assert new is not None and new.skus[0].url == "https://shop.example/p/S1"
    finally:
        await migrated.close()
        await sor.open()  # the fixture closes it again


def test_importer_reads_url_and_refuses_script_links(tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    path.write_text(
        "sku,title,price,url\n"
        "A1,Mouse,19.99,https://shop.example/p/A1\n"
        "A2,Pad,5.00,/p/A2\n"
        "A3,Bad,1.00,javascript:alert(1)\n"
        "A4,Bad,1.00,//evil.example/x\n"
        "A5,None,2.00,\n"
    )
    result = load_products(path)
    urls = {p.skus[0].sku: p.skus[0].url for p in result.products}
    assert urls == {"A1": "https://shop.example/p/A1", "A2": "/p/A2", "A5": None}
    assert [(e.record, "url" in e.reason) for e in result.errors] == [(4, True), (5, True)]


def test_page_template_and_minor_units() -> None:
    assert page_url("https://s.example/p/{sku}?pid={product_id}", sku="A B/1",
                    product_id="p1") == "https://s.example/p/A%20B%2F1?pid=p1"
    assert page_url("", sku="A1", product_id="p1") is None
    assert minor_units(Decimal("19.99"), "USD") == 1999
    assert minor_units(Decimal("1500"), "JPY") == 1500
