"""SystemOfRecord contract, outbox rows: which op every write (ours or plain SQL) appends."""

from __future__ import annotations

from decimal import Decimal

from catalog.models import Money, Stock
from catalog.sor.base import SystemOfRecord
from tests.catalog.sor_support import drain, last_id, ops, product, raw, sku


# -- outbox rules -----------------------------------------------------------------------------
async def test_outbox_rows_follow_the_op_rules(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    assert ops(sor) == [("P1-A", "upsert"), ("P1-B", "upsert")]

    mark = last_id(sor)
    await sor.upsert_products([product("P1")])  # unchanged: nothing
    assert ops(sor, mark) == []

    assert await sor.set_price("demo", "P1-A", Money(amount=Decimal("17.50")))
    assert ops(sor, mark) == [("P1-A", "price")]
    mark = last_id(sor)
    assert await sor.set_price("demo", "P1-A", Money(amount=Decimal("17.5")))  # same value
    assert ops(sor, mark) == []
    assert not await sor.set_price("demo", "nope", Money(amount=Decimal("1")))

    assert await sor.set_stock("demo", "P1-A", Stock(quantity=0, availability="out_of_stock"))
    assert ops(sor, mark) == [("P1-A", "stock")]
    mark = last_id(sor)
    assert await sor.set_stock("demo", "P1-A", Stock(quantity=0, availability="out_of_stock"))
    assert ops(sor, mark) == []

    # content change of one SKU; price+stock change together -> one 'upsert'
    await sor.upsert_products(
        [product("P1", sku("P1-A", "17.50", 0, title="New name"), sku("P1-B", "1.00", 9))]
    )
    rows = ops(sor, mark)
    assert sorted(rows) == [("P1-A", "upsert"), ("P1-B", "upsert")]
    # P1-A's stock went back to in_stock default availability too; still one row per SKU
    assert len(rows) == 2

    mark = last_id(sor)
    await sor.upsert_products(
        [
            product(
                "P1",
                sku("P1-A", "17.50", 0, title="New name"),
                sku("P1-B", "1.00", 9),
                title="Renamed",
            )
        ]
    )
    assert sorted(ops(sor, mark)) == [("P1-A", "upsert"), ("P1-B", "upsert")]

    mark = last_id(sor)
    await sor.upsert_products(
        [product("P1", sku("P1-A", "17.50", 0, title="New name"), title="Renamed")]
    )
    assert ops(sor, mark) == [("P1-B", "delete")]

    mark = last_id(sor)
    await sor.upsert_products([product("P2")])
    assert await sor.delete_sku("demo", "P2-A")
    assert not await sor.delete_sku("demo", "P2-A")
    assert await sor.delete_product("demo", "P1") == 1
    assert await sor.delete_product("demo", "P1") == 0
    assert ops(sor, mark) == [
        ("P2-A", "upsert"),
        ("P2-B", "upsert"),
        ("P2-A", "delete"),
        ("P1-A", "delete"),
    ]
    assert await sor.get_offers("demo", ["P1-A", "P2-A"]) == {}


async def test_payload_carries_product_and_new_values(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    await drain(sor)
    await sor.set_price("demo", "P1-A", Money(amount=Decimal("3.10"), currency="EUR"))
    await sor.set_stock("demo", "P1-B", Stock(quantity=2, availability="low_stock"))
    rows = await sor.claim_changes(10)
    assert [(r.sku, r.op) for r in rows] == [("P1-A", "price"), ("P1-B", "stock")]
    assert rows[0].payload == {"product_id": "P1", "price_amount": "3.10", "currency": "EUR"}
    assert rows[1].payload == {"product_id": "P1", "stock_qty": 2, "availability": "low_stock"}
    assert all(r.version == r.id for r in rows)


async def test_plain_sql_writes_are_captured_by_triggers(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    mark = last_id(sor)
    raw(
        sor,
        "INSERT INTO skus (tenant, sku, product_id, price_amount, currency, stock_qty) "
        "VALUES ('demo', 'P1-C', 'P1', '4.20', 'USD', 1)",
    )
    raw(sor, "UPDATE skus SET price_amount = '5.50' WHERE tenant = 'demo' AND sku = 'P1-C'")
    raw(sor, "UPDATE skus SET stock_qty = 0 WHERE tenant = 'demo' AND sku = 'P1-C'")
    raw(sor, "UPDATE skus SET price_amount = '5.50' WHERE tenant = 'demo' AND sku = 'P1-C'")
    raw(sor, "UPDATE skus SET updated_at = updated_at WHERE tenant = 'demo'")
    raw(sor, "UPDATE products SET brand = 'Acme' WHERE product_id = 'P1'")  # unchanged
    raw(sor, "UPDATE products SET description = 'new' WHERE product_id = 'P1'")
    assert ops(sor, mark) == [
        ("P1-C", "upsert"),
        ("P1-C", "price"),
        ("P1-C", "stock"),
        ("P1-A", "upsert"),
        ("P1-B", "upsert"),
        ("P1-C", "upsert"),
    ]
    offers = await sor.get_offers("demo", ["P1-C"])
    assert offers["P1-C"].price == Money(amount=Decimal("5.50"))

    mark = last_id(sor)
    raw(sor, "UPDATE skus SET sku = 'P1-D' WHERE tenant = 'demo' AND sku = 'P1-C'")
    raw(sor, "DELETE FROM products WHERE tenant = 'demo' AND product_id = 'P1'")
    assert ops(sor, mark) == [
        ("P1-C", "delete"),
        ("P1-D", "upsert"),
        ("P1-A", "delete"),
        ("P1-B", "delete"),
        ("P1-D", "delete"),
    ]


async def test_compact_outbox_keeps_versions(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    for cents in ("1.00", "2.00", "3.00"):
        await sor.set_price("demo", "P1-A", Money(amount=Decimal(cents)))
    await drain(sor)
    before = await sor.sku_versions("demo")
    removed = await sor.compact_outbox()  # type: ignore[attr-defined]
    assert removed == 3
    assert await sor.sku_versions("demo") == before
