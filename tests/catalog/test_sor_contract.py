"""Contract tests every SystemOfRecord backend must pass (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog.errors import SorUnavailable
from catalog.models import Money, Product, Sku, Stock
from catalog.sor.base import SystemOfRecord
from catalog.sor.postgres import PostgresSor
from catalog.sor.sqlite import SqliteSor

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[2]


def _new_sor(kind: str, tmp_path: Path, schema: str) -> SystemOfRecord:
    if kind == "sqlite":
        return SqliteSor(f"sqlite:///{tmp_path / 'sor.db'}")
    return PostgresSor(PG_URL, schema=schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def sor(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SystemOfRecord]:
    """An opened SoR: SQLite on tmp_path, or PostgreSQL in a fresh schema dropped afterwards."""
    schema = f"sor_test_{uuid.uuid4().hex[:12]}"
    store = _new_sor(request.param, tmp_path, schema)
    store.schema_for_tests = schema  # type: ignore[attr-defined]
    store.path_for_tests = tmp_path  # type: ignore[attr-defined]
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if request.param == "postgres":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


async def twin(store: SystemOfRecord) -> SystemOfRecord:
    """A second, independent SoR on the same database: another process's view."""
    if isinstance(store, SqliteSor):
        other: SystemOfRecord = SqliteSor(store.url)
    else:
        other = PostgresSor(PG_URL, schema=store.schema_for_tests)  # type: ignore[attr-defined]
    await other.open()
    return other


def raw(store: SystemOfRecord, statement: str) -> list[tuple[Any, ...]]:
    """Run plain SQL as another program would (own connection, no Shopkeeper code)."""
    if isinstance(store, SqliteSor):
        conn = sqlite3.connect(store.path, isolation_level=None)
        try:
            return conn.execute(statement).fetchall()
        finally:
            conn.close()
    schema = store.schema_for_tests  # type: ignore[attr-defined]
    opts = f"-c search_path={schema}"
    with psycopg.connect(PG_URL, autocommit=True, options=opts) as pg:
        cur = pg.execute(statement)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def ops(store: SystemOfRecord, after: int = 0) -> list[tuple[str, str]]:
    rows = raw(store, f"SELECT sku, op FROM outbox WHERE id > {after} ORDER BY id")
    return [(r[0], r[1]) for r in rows]


def last_id(store: SystemOfRecord) -> int:
    return int(raw(store, "SELECT COALESCE(max(id), 0) FROM outbox")[0][0])


def sku(code: str, price: str = "19.99", qty: int = 5, **kw: Any) -> Sku:
    return Sku(sku=code, price=Money(amount=Decimal(price)), stock=Stock(quantity=qty), **kw)


def product(pid: str = "P1", *skus: Sku, title: str = "Trail shoe", **kw: Any) -> Product:
    return Product(
        product_id=pid,
        title=title,
        brand="Acme",
        attributes={"waterproof": True, "weight_g": 310.5, "size": 42, "color": "red"},
        skus=list(skus) or [sku(f"{pid}-A"), sku(f"{pid}-B", "0.10")],
        **kw,
    )


async def drain(store: SystemOfRecord) -> None:
    """Ack everything pending (one row per SKU per claim, so loop)."""
    while rows := await store.claim_changes(1000):
        await store.ack_changes([r.id for r in rows])


# -- catalog round trip ---------------------------------------------------------------------
async def test_is_a_system_of_record(sor: SystemOfRecord) -> None:
    assert isinstance(sor, SystemOfRecord)
    await sor.ping()


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


async def test_compact_outbox_keeps_versions(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    for cents in ("1.00", "2.00", "3.00"):
        await sor.set_price("demo", "P1-A", Money(amount=Decimal(cents)))
    await drain(sor)
    before = await sor.sku_versions("demo")
    removed = await sor.compact_outbox()  # type: ignore[attr-defined]
    assert removed == 3
    assert await sor.sku_versions("demo") == before


# -- claim / ack / release ----------------------------------------------------------------------
async def test_claim_ack_release_and_lease_expiry(sor: SystemOfRecord) -> None:
    assert await sor.pending_changes() == 0 and await sor.oldest_pending_at() is None
    await sor.upsert_products([product("P1"), product("P2")])
    assert await sor.pending_changes() == 4
    oldest = await sor.oldest_pending_at()
    assert oldest is not None and oldest.tzinfo is not None

    first = await sor.claim_changes(3)
    assert [r.sku for r in first] == ["P1-A", "P1-B", "P2-A"]
    assert [r.id for r in first] == sorted(r.id for r in first)
    assert (await sor.claim_changes(10))[0].sku == "P2-B"  # leased rows are not handed out again
    assert await sor.claim_changes(10) == []

    await sor.release_changes([first[0].id], error="index down")
    again = await sor.claim_changes(10)
    assert [(r.id, r.attempts) for r in again] == [(first[0].id, 1)]
    err = raw(sor, f"SELECT last_error FROM outbox WHERE id = {first[0].id}")
    assert err == [("index down",)]

    await sor.ack_changes([r.id for r in first])
    assert await sor.pending_changes() == 1  # P2-B still leased, not done
    await sor.ack_changes([r.id for r in first])  # idempotent
    assert await sor.pending_changes() == 1

    await sor.upsert_products([product("P3")])
    short = await sor.claim_changes(1, lease_seconds=0.05)
    assert [r.sku for r in short] == ["P3-A"]
    await asyncio.sleep(0.15)
    expired = await sor.claim_changes(1)
    assert [r.id for r in expired] == [short[0].id]  # lease expired: handed out again
    assert expired[0].attempts == 0  # expiry is not a failed attempt


async def test_claims_keep_per_sku_order(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product("P1")])
    await sor.set_price("demo", "P1-A", Money(amount=Decimal("1.00")))
    batch = await sor.claim_changes(10)
    assert [(r.sku, r.op) for r in batch] == [("P1-A", "upsert"), ("P1-B", "upsert")]
    assert await sor.claim_changes(10) == []  # P1-A's price row waits for its upsert row
    await sor.release_changes([batch[0].id], error="retry")
    retry = await sor.claim_changes(10)
    assert [(r.sku, r.op) for r in retry] == [("P1-A", "upsert")]
    await sor.ack_changes([r.id for r in batch])
    assert [(r.sku, r.op) for r in await sor.claim_changes(10)] == [("P1-A", "price")]


async def test_concurrent_claimers_never_share_a_row(sor: SystemOfRecord) -> None:
    await sor.upsert_products([product(f"P{i:03d}") for i in range(100)])  # 200 rows
    other = await twin(sor)
    seen: list[int] = []

    async def worker(store: SystemOfRecord) -> None:
        while rows := await store.claim_changes(7):
            seen.extend(r.id for r in rows)
            await asyncio.sleep(0)
            await store.ack_changes([r.id for r in rows])

    try:
        await asyncio.gather(worker(sor), worker(other), worker(sor), worker(other))
    finally:
        await other.close()
    assert len(seen) == 200 and len(set(seen)) == 200
    assert await sor.pending_changes() == 0


# -- wake-ups ---------------------------------------------------------------------------------
async def test_wait_for_changes_wakes_on_write_and_times_out(sor: SystemOfRecord) -> None:
    t0 = time.monotonic()
    await sor.wait_for_changes(0.3)
    assert 0.25 <= time.monotonic() - t0 < 2.0

    other = await twin(sor)
    try:

        async def write_soon() -> None:
            await asyncio.sleep(0.2)
            await other.upsert_products([product("P1")])

        writer = asyncio.create_task(write_soon())
        t0 = time.monotonic()
        await sor.wait_for_changes(10.0)
        elapsed = time.monotonic() - t0
        await writer
    finally:
        await other.close()
    assert 0.15 <= elapsed < 1.5
    assert len(await sor.claim_changes(10)) == 2

    t0 = time.monotonic()
    await sor.wait_for_changes(0.2)  # rows leased by us: nothing claimable, so it waits
    assert time.monotonic() - t0 >= 0.15


@pytest.mark.postgres
async def test_postgres_notify_wakes_waiter_from_plain_sql(tmp_path: Path) -> None:
    schema = f"sor_test_{uuid.uuid4().hex[:12]}"
    store = PostgresSor(f"{PG_URL}?options=-csearch_path%3D{schema}")
    assert store.schema == schema
    await store.open()
    try:
        waiter = asyncio.create_task(store.wait_for_changes(10.0))
        await asyncio.sleep(0.2)
        assert not waiter.done()
        t0 = time.monotonic()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.skus (tenant, sku, product_id, price_amount) "
                    "VALUES ('demo', 'X-1', 'X', 1)"
                ).format(sql.Identifier(schema))
            )
        await asyncio.wait_for(waiter, 2.0)
        assert time.monotonic() - t0 < 0.5
        assert [r.sku for r in await store.claim_changes(5)] == ["X-1"]
    finally:
        await store.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


# -- dead letters -----------------------------------------------------------------------------
async def test_dead_letter_queue(sor: SystemOfRecord) -> None:
    assert await sor.count_dead_letters() == 0
    ids = [
        await sor.dead_letter("outbox", {"sku": f"S{i}", "n": i, "price": Decimal("1.5")}, "bad", i)
        for i in range(3)
    ]
    assert ids == sorted(ids) and await sor.count_dead_letters() == 3
    listed = await sor.list_dead_letters()
    assert [d.id for d in listed] == ids
    assert listed[1].event == {"sku": "S1", "n": 1, "price": "1.5"}
    assert (listed[1].source, listed[1].reason, listed[1].attempts) == ("outbox", "bad", 1)
    assert listed[0].created_at.tzinfo is not None
    assert [d.id for d in await sor.list_dead_letters(limit=1)] == ids[:1]

    popped = await sor.pop_dead_letters([ids[1]])
    assert [d.id for d in popped] == [ids[1]] and await sor.count_dead_letters() == 2
    assert await sor.pop_dead_letters([]) == []
    rest = await sor.pop_dead_letters()
    assert [d.id for d in rest] == [ids[0], ids[2]]
    assert await sor.count_dead_letters() == 0


# -- unavailability ---------------------------------------------------------------------------
@pytest.mark.postgres
async def test_unreachable_postgres_is_sor_unavailable_quickly() -> None:
    store = PostgresSor("postgresql://postgres@127.0.0.1:1/test")
    t0 = time.monotonic()
    with pytest.raises(SorUnavailable) as err:
        await store.open()
    assert time.monotonic() - t0 < 3.5
    assert "\n" not in err.value.message and "SHOPKEEPER_SOR_URL" in err.value.message
    assert "127.0.0.1:1" in err.value.message
    with pytest.raises(SorUnavailable):
        await store.get_offers("demo", ["x"])


async def test_bad_sqlite_path_is_sor_unavailable(tmp_path: Path) -> None:
    store = SqliteSor(f"sqlite:///{tmp_path}/missing-dir/sor.db")
    with pytest.raises(SorUnavailable) as err:
        await store.open()
    assert "missing-dir" in err.value.message and "\n" not in err.value.message
    (tmp_path / "a-dir.db").mkdir()
    with pytest.raises(SorUnavailable):
        await SqliteSor(f"sqlite:///{tmp_path}/a-dir.db").open()
    with pytest.raises(SorUnavailable):
        await SqliteSor(f"sqlite:///{tmp_path}/never-opened.db").ping()
    with pytest.raises(ValueError, match="in-memory"):
        SqliteSor("sqlite:///:memory:")


async def test_sqlite_two_processes_share_the_file(tmp_path: Path) -> None:
    """A worker process writes while this process claims and acks: no 'database is locked'."""
    db = tmp_path / "shared.db"
    store = SqliteSor(f"sqlite:///{db}")
    await store.open()
    await store.upsert_products([product(f"P{i}") for i in range(20)])
    child = textwrap.dedent(
        f"""
        import asyncio
        from decimal import Decimal
        from catalog.models import Money
        from catalog.sor.sqlite import SqliteSor

        async def main():
            s = SqliteSor("sqlite:///{db}")
            await s.open()
            for n in range(1, 101):
                await s.set_price("demo", f"P{{n % 20}}-A", Money(amount=Decimal(n)))
            await s.close()

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=ROOT)
    acked = 0
    try:
        while proc.poll() is None or await store.pending_changes():
            rows = await store.claim_changes(50)
            await store.ack_changes([r.id for r in rows])
            acked += len(rows)
            if not rows:
                await store.wait_for_changes(0.05)
        assert proc.wait(timeout=30) == 0
    finally:
        await store.close()
    assert acked == 40 + 100
