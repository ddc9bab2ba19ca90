"""A product's learned ``product_type`` in the system of record (schema 3), on both backends."""

from __future__ import annotations

from catalog.models import Product
from catalog.sor.base import SystemOfRecord
from catalog.sor.postgres import PostgresSor
from catalog.sor.sqlite import SqliteSor
from tests.catalog.sor_support import PG_URL, last_id, ops, raw, sku


def product(product_type: str | None) -> Product:
    return Product(tenant="t", product_id="p1", title="Kensington laptop lock",
                   product_type=product_type, skus=[sku("S1")])


async def test_product_type_round_trips_and_a_new_type_is_an_upsert(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("cable lock")])
    got = await sor.get_product_by_sku("t", "S1")
    assert got is not None and got.product_type == "cable lock"
    assert [p.product_type async for p in sor.iter_products("t")] == ["cable lock"]

    before = last_id(sor)
    await sor.upsert_products([product("lock")])
    assert ops(sor, before) == [("S1", "upsert")]  # the index must learn the new type
    before = last_id(sor)
    await sor.upsert_products([product("lock")])
    assert ops(sor, before) == []  # unchanged: no outbox row


async def _reopen(store: SystemOfRecord) -> SystemOfRecord:
    schema = store.schema_for_tests  # type: ignore[attr-defined]
    again: SystemOfRecord = (SqliteSor(store.url) if isinstance(store, SqliteSor) else
                             PostgresSor(PG_URL, schema=schema))
    again.schema_for_tests = schema  # type: ignore[attr-defined]
    await again.open()
    return again


async def test_a_version_2_database_gains_the_column_in_place(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product(None)])
    await sor.close()
    # Turn it back into a version-2 database (it has skus.url), as an older Shopkeeper left it.
    if isinstance(sor, SqliteSor):
        raw(sor, "DROP TRIGGER products_outbox_update")
        raw(sor, "ALTER TABLE products DROP COLUMN product_type")
        raw(sor, "PRAGMA user_version = 2")
    else:
        raw(sor, "DROP TRIGGER products_outbox ON products")
        raw(sor, "ALTER TABLE products DROP COLUMN product_type")
        raw(sor, "UPDATE shopkeeper_schema SET version = 2")
    migrated = await _reopen(sor)
    try:
        old = await migrated.get_product_by_sku("t", "S1")
        assert old is not None and old.product_type is None
        before = last_id(migrated)
        await migrated.upsert_products([product("lock")])
        assert ops(migrated, before) == [("S1", "upsert")], "triggers were rebuilt"
        new = await migrated.get_product_by_sku("t", "S1")
        assert new is not None and new.product_type == "lock"
    finally:
        await migrated.close()
        await sor.open()  # the fixture closes it again
