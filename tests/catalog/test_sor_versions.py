"""The durable version guard on SQLite and PostgreSQL: older writes never win, even on restart.

Every write may carry the sender's version; the SoR keeps the last applied one with the row and
refuses older ones in the same transaction (``catalog/sor/versions.py`` has the rules). A refused
write changes nothing, so it writes no outbox row and the index never sees it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.errors import StaleVersion
from catalog.models import Money, Product, Stock
from catalog.sor.base import SystemOfRecord
from catalog.sor.postgres import PostgresSor
from tests.catalog.sor_support import PG_URL, ROOT, last_id, ops, product, raw, sku, twin


def price(amount: str) -> Money:
    return Money(amount=Decimal(amount))


async def offer(sor: SystemOfRecord, code: str) -> tuple[Decimal | None, int | None]:
    """(price, stock quantity) of a live SKU, or (None, None) when it is absent."""
    got = (await sor.get_offers("demo", [code])).get(code)
    if got is None:
        return None, None
    return (got.price.amount if got.price else None), (got.stock.quantity if got.stock else None)


def applied(sor: SystemOfRecord, code: str) -> int | None:
    rows = raw(sor, f"SELECT applied_version FROM skus WHERE sku = '{code}'")
    return rows[0][0] if rows else None


async def live(sor: SystemOfRecord) -> set[str]:
    return {s.sku async for p in sor.iter_products("demo") for s in p.skus}


async def test_price_and_stock_keep_the_newest_version(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    assert await sor.set_price("demo", "P1-A", price("30.00"), version=1000)
    before = last_id(sor)
    with pytest.raises(StaleVersion) as err:
        await sor.set_price("demo", "P1-A", price("10.00"), version=500)
    assert err.value.keys == ["P1-A"] and err.value.version == 500
    with pytest.raises(StaleVersion):
        await sor.set_stock("demo", "P1-A", Stock(quantity=0), version=999)
    assert await offer(sor, "P1-A") == (Decimal("30.00"), 5)
    assert ops(sor, before) == []  # refused writes reach neither the outbox nor the index

    # An equal version is the same write again, or a sibling of it (price and stock of one
    # update): it applies. An unversioned write (bulk ingest) applies and keeps the version.
    assert await sor.set_price("demo", "P1-A", price("30.00"), version=1000)
    assert ops(sor, before) == []
    assert await sor.set_stock("demo", "P1-A", Stock(quantity=2), version=1000)
    assert await sor.set_price("demo", "P1-A", price("5.00"))
    assert applied(sor, "P1-A") == 1000
    with pytest.raises(StaleVersion):
        await sor.set_price("demo", "P1-A", price("6.00"), version=999)
    assert await offer(sor, "P1-A") == (Decimal("5.00"), 2)
    # A newer version of an unchanged value still moves the mark (no outbox row: nothing moved).
    before = last_id(sor)
    assert await sor.set_price("demo", "P1-A", price("5.00"), version=2000)
    assert applied(sor, "P1-A") == 2000 and ops(sor, before) == []
    with pytest.raises(StaleVersion):
        await sor.set_price("demo", "P1-A", price("7.00"), version=1500)
    assert not await sor.set_price("demo", "NOPE", price("1.00"), version=1)  # unknown SKU


async def test_sku_upsert_never_overwrites_a_newer_one(sor: SystemOfRecord) -> None:
    def one(title: str, amount: str) -> Product:
        return product("P1", sku("P1-A", amount, title=title))

    await sor.upsert_products([one("new", "20.00")], version=20)
    before = last_id(sor)
    with pytest.raises(StaleVersion):
        await sor.upsert_products([one("old", "15.00")], version=15)
    got = await sor.get_product_by_sku("demo", "P1-A")
    assert got is not None and got.skus[0].title == "new"
    assert ops(sor, before) == []
    await sor.upsert_products([one("newer", "25.00")], version=25)
    assert await offer(sor, "P1-A") == (Decimal("25.00"), 5)
    assert applied(sor, "P1-A") == 25


async def test_product_upsert_compares_each_sku(sor: SystemOfRecord) -> None:
    """Issue 12, item 2: a price at version 20, then a whole product at 15 with other values."""
    await sor.upsert_products([product("P1")])  # P1-A 19.99, P1-B 0.10, both stock 5
    await sor.set_price("demo", "P1-A", price("50.00"), version=20)
    older = product("P1", sku("P1-A", "1.00", qty=0), sku("P1-B", "2.00", qty=1), title="Boot")
    before = last_id(sor)
    await sor.upsert_products([older], version=15)  # partly applied: P1-B was older
    assert await offer(sor, "P1-A") == (Decimal("50.00"), 5)
    assert await offer(sor, "P1-B") == (Decimal("2.00"), 1)
    assert {s for s, _ in ops(sor, before)} == {"P1-A", "P1-B"}  # the title moved for both
    got = await sor.get_product_by_sku("demo", "P1-A")
    assert got is not None and got.title == "Boot" and got.skus[0].price.amount == 50

    # A version per SKU overrides the write's; every SKU stale -> refused as a whole.
    mixed = product("P1", sku("P1-A", "3.00", version=25), sku("P1-B", "4.00", version=10),
                    title="Boot")
    await sor.upsert_products([mixed], version=10)
    assert (await offer(sor, "P1-A"))[0] == Decimal("3.00")
    assert (await offer(sor, "P1-B"))[0] == Decimal("2.00")
    assert (applied(sor, "P1-A"), applied(sor, "P1-B")) == (25, 15)
    with pytest.raises(StaleVersion) as err:
        await sor.upsert_products([product("P1", sku("P1-A", "9.00"), sku("P1-B", "9.00"),
                                           title="Old title")], version=12)
    assert sorted(err.value.keys) == ["P1-A", "P1-B"]
    got = await sor.get_product_by_sku("demo", "P1-B")
    assert got is not None and got.title == "Boot"  # the product row is guarded too


async def test_a_deleted_sku_stays_deleted_for_older_upserts(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")], version=10)
    assert await sor.delete_sku("demo", "P1-A", version=20)
    assert await offer(sor, "P1-A") == (None, None)
    assert "P1-A" not in await sor.sku_versions("demo") and await live(sor) == {"P1-B"}

    before = last_id(sor)
    await sor.upsert_products([product("P1")], version=15)  # P1-B applies, P1-A stays dead
    assert await live(sor) == {"P1-B"} and ops(sor, before) == []
    with pytest.raises(StaleVersion):  # a delete wins over an upsert of the same version
        await sor.upsert_products([product("P1", sku("P1-A"), sku("P1-B", "0.10", version=15))],
                                  version=20)
    with pytest.raises(StaleVersion):  # a late price for the deleted SKU is stale, not poison
        await sor.set_price("demo", "P1-A", price("1.00"), version=19)
    assert not await sor.set_price("demo", "P1-A", price("1.00"), version=21)  # unknown: poison
    assert await offer(sor, "P1-A") == (None, None)

    await sor.upsert_products([product("P1")], version=21)  # strictly newer: it is back
    assert await live(sor) == {"P1-A", "P1-B"}
    assert raw(sor, "SELECT count(*) FROM sku_tombstones")[0][0] == 0
    with pytest.raises(StaleVersion):
        await sor.delete_sku("demo", "P1-A", version=5)
    assert "P1-A" in await live(sor)

    # Deleted before it was ever created (events out of order): the create is refused.
    assert not await sor.delete_sku("demo", "P9-A", version=30)
    with pytest.raises(StaleVersion):
        await sor.upsert_products([product("P9", sku("P9-A"))], version=29)
    assert await offer(sor, "P9-A") == (None, None)
    # An unversioned write (bulk ingest) brings it back and inherits the tombstone's version.
    await sor.upsert_products([product("P9", sku("P9-A"))])
    assert applied(sor, "P9-A") == 30
    with pytest.raises(StaleVersion):
        await sor.set_price("demo", "P9-A", price("2.00"), version=29)


async def test_deleting_a_product_keeps_newer_skus(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")], version=10)
    await sor.set_price("demo", "P1-B", price("7.00"), version=30)
    assert await sor.delete_product("demo", "P1", version=20) == 1
    assert await live(sor) == {"P1-B"}
    with pytest.raises(StaleVersion):
        await sor.delete_product("demo", "P1", version=25)
    assert await sor.delete_product("demo", "P1", version=40) == 1
    assert await live(sor) == set() and await sor.get_product_by_sku("demo", "P1-B") is None
    assert raw(sor, "SELECT count(*) FROM products")[0][0] == 0

    await sor.upsert_products([product("P1")], version=35)  # P1-A died at 20, P1-B at 40
    assert await live(sor) == {"P1-A"}
    with pytest.raises(StaleVersion):
        await sor.upsert_products([product("P2", sku("P1-B"))], version=40)
    assert raw(sor, "SELECT count(*) FROM products WHERE product_id = 'P2'")[0][0] == 0


async def test_skus_a_product_no_longer_lists_go_only_when_not_newer(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")], version=10)
    await sor.set_price("demo", "P1-B", price("7.00"), version=30)
    await sor.upsert_products([product("P1", sku("P1-A"))], version=20)
    assert await live(sor) == {"P1-A", "P1-B"}  # P1-B is newer than the upsert that drops it
    await sor.upsert_products([product("P1", sku("P1-A"))], version=40)
    assert await live(sor) == {"P1-A"}
    with pytest.raises(StaleVersion):
        await sor.upsert_products([product("P1", sku("P1-B"))], version=35)  # tombstone at 40
    assert await live(sor) == {"P1-A"}


async def test_the_guard_is_in_the_database_not_the_process(sor: SystemOfRecord) -> None:
    """Issue 12, item 1: version 1000, a restart (a new SoR object), then version 500."""
    await sor.upsert_products([product("P1")])
    assert await sor.set_price("demo", "P1-A", price("30.00"), version=1000)
    assert await sor.delete_sku("demo", "P1-B", version=1000)
    await sor.close()
    again = await twin(sor)
    try:
        with pytest.raises(StaleVersion):
            await again.set_price("demo", "P1-A", price("10.00"), version=500)
        with pytest.raises(StaleVersion):
            await again.upsert_products([product("P1")], version=500)
        assert await offer(again, "P1-A") == (Decimal("30.00"), 5)
        assert await offer(again, "P1-B") == (None, None)
    finally:
        await again.close()
        await sor.open()  # the fixture closes it again


async def test_a_version_2_database_gains_the_guard_in_place(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    await sor.close()
    # Turn it back into a version-2 database, as the previous Shopkeeper left it.
    raw(sor, "DROP TABLE sku_tombstones")
    for table in ("skus", "products"):
        raw(sor, f"ALTER TABLE {table} DROP COLUMN applied_version")
    raw(sor, "PRAGMA user_version = 2" if sor.url.startswith("sqlite")
        else "UPDATE shopkeeper_schema SET version = 2")
    migrated = await twin(sor)
    try:
        assert await offer(migrated, "P1-A") == (Decimal("19.99"), 5)
        assert await migrated.set_price("demo", "P1-A", price("30.00"), version=10)
        with pytest.raises(StaleVersion):
            await migrated.set_price("demo", "P1-A", price("1.00"), version=9)
        assert await migrated.delete_sku("demo", "P1-B", version=10)
    finally:
        await migrated.close()
    reopened = await twin(sor)  # a second open of a current database changes nothing
    try:
        assert await offer(reopened, "P1-A") == (Decimal("30.00"), 5)
        with pytest.raises(StaleVersion):
            await reopened.upsert_products([product("P1")], version=9)
    finally:
        await reopened.close()
        await sor.open()


_WRITER = textwrap.dedent(
    """
    import asyncio, random, sys, time
    from decimal import Decimal
    from pathlib import Path
    from catalog.errors import StaleVersion
    from catalog.models import Money, Product, Sku, Stock
    from catalog.sor import open_sor

    url, parity, go, top = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])

    def item(code, v):
        return Sku(sku=code, price=Money(amount=Decimal(v)), stock=Stock(quantity=v % 7))

    async def main():
        sor = open_sor(url)
        await sor.open()
        versions = [v for v in range(1, top + 1) if v % 2 == parity]
        random.Random(parity).shuffle(versions)
        while not go.exists():
            time.sleep(0.005)
        stale = 0
        for n, v in enumerate(versions):
            try:
                if parity == 0 and n == len(versions) // 2:
                    await sor.delete_sku("demo", "R-T", version=top + 1)  # the newest of all
                if v % 3 == 0:
                    await sor.set_price("demo", "R-A", Money(amount=Decimal(v)), version=v)
                else:
                    skus = [item("R-A", v), item("R-T", v)]
                    await sor.upsert_products(
                        [Product(product_id="R", title=f"Race {v}", skus=skus)], version=v)
            except StaleVersion:
                stale += 1
        await sor.close()
        print(stale)

    asyncio.run(main())
    """
)


async def test_two_processes_racing_leave_the_newest(sor: SystemOfRecord, tmp_path: Path) -> None:
    """Two OS processes write one product's SKUs at interleaved versions in shuffled order.

    On PostgreSQL they really run at once (row locks, advisory locks for inserts and deletes);
    SQLite serialises them on its write lock.
    """
    top = 301  # versions 1..301 between the two; R-T is deleted at 302 midway
    url = sor.url
    if isinstance(sor, PostgresSor):
        url = f"{PG_URL}?options=-csearch_path%3D{sor.schema_for_tests}"  # type: ignore[attr-defined]
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, url, str(parity), str(go), str(top)],
                         cwd=ROOT, stdout=subprocess.PIPE)
        for parity in (0, 1)
    ]
    await asyncio.sleep(1.0)  # both are importing and connecting; then start them together
    go.touch()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(int(o) > 0 for o in outs)  # older writes were refused, not applied

    assert await offer(sor, "R-A") == (Decimal(top), top % 7)
    assert applied(sor, "R-A") == top
    assert await offer(sor, "R-T") == (None, None)  # deleted at 302: no later upsert revived it
    assert raw(sor, "SELECT version FROM sku_tombstones WHERE sku = 'R-T'") == [(top + 1,)]
    got = await sor.get_product_by_sku("demo", "R-A")
    assert got is not None and got.title == f"Race {max(v for v in range(top + 1) if v % 3)}"
