"""Helpers shared by the SystemOfRecord contract tests (the ``sor`` fixture is in conftest)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from catalog.models import Money, Product, Sku, Stock
from catalog.sor.base import SystemOfRecord
from catalog.sor.postgres import PostgresSor
from catalog.sor.sqlite import SqliteSor

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[2]


def new_sor(kind: str, tmp_path: Path, schema: str) -> SystemOfRecord:
    if kind == "sqlite":
        return SqliteSor(f"sqlite:///{tmp_path / 'sor.db'}")
    return PostgresSor(PG_URL, schema=schema)


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
