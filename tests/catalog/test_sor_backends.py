"""Backend specifics of the SoR: NOTIFY from plain SQL, unreachable databases, two processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from catalog.errors import SorUnavailable
from catalog.sor.postgres import PostgresSor
from catalog.sor.sqlite import SqliteSor
from tests.catalog.sor_support import PG_URL, ROOT, product


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
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.skus (tenant, sku, product_id, price_amount) "
                    "VALUES ('demo', 'X-1', 'X', 1)"
                ).format(sql.Identifier(schema))
            )
        await asyncio.wait_for(waiter, 2.0)  # woken by the NOTIFY, long before its own 10 s
        assert [r.sku for r in await store.claim_changes(5)] == ["X-1"]
    finally:
        await store.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


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
