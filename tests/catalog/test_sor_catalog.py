"""SystemOfRecord contract, catalog store: products, SKUs, offers and versions round-trip."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from catalog.models import Money, Stock
from catalog.sor.base import CatalogStore, ChangeOutbox, DeadLetters, SystemOfRecord
from catalog.sor.postgres import (
    PostgresCatalog,
    PostgresDeadLetters,
    PostgresOutbox,
    PostgresSor,
)
from catalog.sor.sqlite import SqliteCatalog, SqliteDeadLetters, SqliteOutbox, SqliteSor
from tests.catalog.sor_support import PG_URL, product, raw, sku


# -- catalog round trip ---------------------------------------------------------------------
async def test_is_a_system_of_record(sor: SystemOfRecord) -> None:
    assert isinstance(sor, SystemOfRecord)
    await sor.ping()


def test_each_backend_job_is_exactly_one_narrow_protocol(tmp_path: Path) -> None:
    """SystemOfRecord = CatalogStore + ChangeOutbox + DeadLetters; each job module is one."""
    lite = f"sqlite:///{tmp_path / 'sor.db'}"
    narrow = (CatalogStore, ChangeOutbox, DeadLetters)
    jobs = [
        (SqliteCatalog(lite), CatalogStore),
        (SqliteOutbox(lite), ChangeOutbox),
        (SqliteDeadLetters(lite), DeadLetters),
        (PostgresCatalog(PG_URL), CatalogStore),
        (PostgresOutbox(PG_URL), ChangeOutbox),
        (PostgresDeadLetters(PG_URL), DeadLetters),
    ]
    for job, protocol in jobs:
        assert [isinstance(job, p) for p in narrow] == [p is protocol for p in narrow], job
        assert not isinstance(job, SystemOfRecord)
    for whole in (SqliteSor(lite), PostgresSor(PG_URL)):
        assert all(isinstance(whole, p) for p in (*narrow, SystemOfRecord))


async def test_round_trip_products_skus_offers(sor: SystemOfRecord) -> None:
    p = product(
        "P1",
        sku("P1-A", "19.99", ean=["4006381333931"], variant_attributes={"size": "42"}),
        sku("P1-B", "0.10", qty=0, title="Trail shoe, blue"),
        description="Grippy.",
        category="shoes",
        released="2024-03",
    )
    assert await sor.upsert_products([p, product("P2", title="Rain coat")]) == 2

    got = await sor.get_product_by_sku("demo", "P1-B")
    assert got is not None
    assert (got.title, got.description, got.category, got.released) == (
        "Trail shoe",
        "Grippy.",
        "shoes",
        "2024-03",
    )
    assert got.attributes == p.attributes
    assert [s.sku for s in got.skus] == ["P1-B"]
    assert got.skus[0] == p.skus[1]
    assert await sor.get_product_by_sku("demo", "nope") is None
    assert await sor.get_product_by_sku("other-tenant", "P1-A") is None

    offers = await sor.get_offers("demo", ["P1-A", "P1-B", "unknown", "P1-A"])
    assert set(offers) == {"P1-A", "P1-B"}
    a = offers["P1-A"]
    assert a.price is not None and a.price.amount == Decimal("19.99")
    assert str(a.price.amount) == "19.99" and a.price.currency == "USD"
    assert offers["P1-B"].price == Money(amount=Decimal("0.10"))
    assert a.stock == Stock(quantity=5) and a.in_stock and not offers["P1-B"].in_stock
    assert a.version > 0 and a.as_of.tzinfo is not None
    assert await sor.get_offers("demo", []) == {}

    listed = [x async for x in sor.iter_products("demo")]
    assert [x.product_id for x in listed] == ["P1", "P2"]
    assert listed[0].skus == p.skus
    assert await sor.tenants() == ["demo"]


async def test_iter_products_pages_and_skips_productless(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product(f"P{i:03d}") for i in range(7)])
    await sor.delete_product("demo", "P003")
    got = [p.product_id async for p in sor.iter_products("demo", page_size=2)]  # type: ignore[call-arg]
    assert got == ["P000", "P001", "P002", "P004", "P005", "P006"]


async def test_malformed_row_from_another_program_yields_none_not_error(
    sor: SystemOfRecord,
) -> None:
    await sor.upsert_products([product("P1")])
    raw(sor, "UPDATE skus SET currency = 'XXX' WHERE sku = 'P1-A'")
    offers = await sor.get_offers("demo", ["P1-A", "P1-B"])
    assert offers["P1-A"].price is None and offers["P1-A"].stock == Stock(quantity=5)
    assert offers["P1-B"].price == Money(amount=Decimal("0.10"))


# -- versions ---------------------------------------------------------------------------------
async def test_sku_versions_are_latest_outbox_ids(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1"), product("P2")])
    await sor.set_price("demo", "P1-A", Money(amount=Decimal("1.00")))
    await sor.delete_sku("demo", "P2-B")
    truth = {
        s: int(v)
        for s, v in raw(sor, "SELECT sku, max(id) FROM outbox WHERE tenant = 'demo' GROUP BY sku")
    }
    versions = await sor.sku_versions("demo")
    assert set(versions) == {"P1-A", "P1-B", "P2-A"}
    assert versions == {k: truth[k] for k in versions}
    assert versions["P1-A"] > versions["P1-B"]
    offers = await sor.get_offers("demo", list(versions))
    assert {k: o.version for k, o in offers.items()} == versions
    assert await sor.sku_versions("nobody") == {}
