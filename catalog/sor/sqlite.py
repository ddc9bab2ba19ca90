"""Embedded system of record on SQLite (WAL): the default, safe for an API and a worker process.

One writer connection and one read connection, each owned by its own single-thread executor, so
reads (``get_offers``) never queue behind a bulk load and no connection is shared across threads.
Every write runs in ``BEGIN IMMEDIATE`` so concurrent processes wait on ``busy_timeout`` instead
of failing on a stale snapshot.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from catalog.errors import SorUnavailable
from catalog.models import Money, Offer, Product, Sku, Stock, utcnow
from catalog.sor.base import ChangeRow, DeadLetter
from catalog.sor.schema import (
    PRODUCT_COLS,
    PRODUCT_CONTENT,
    SCHEMA_VERSION,
    SKU_COLS,
    SKU_STOCK,
    SKU_TRACKED,
    SQLITE_DDL,
)
from catalog.sor.schema_rows import (
    CHANGE_COLS,
    DLQ_COLS,
    as_utc,
    canonical_json,
    change_from_row,
    dead_letter_from_row,
    offers_from_json,
    price_amount,
    product_from_rows,
    product_row,
    sku_from_row,
    sku_row,
    stock_values,
)

T = TypeVar("T")
SETTING = "SHOPKEEPER_SOR_URL"
NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
# sqlite3 error texts that mean "cannot use the database now", not "the SQL is wrong".
_UNAVAILABLE: tuple[str, ...] = ("locked", "busy", "unable to open", "disk", "not a database")
_UNAVAILABLE += ("readonly", "image is malformed", "full", "no such table")


def _upsert_sql(table: str, cols: tuple[str, ...], key: str, tracked: tuple[str, ...]) -> str:
    """Upsert that leaves unchanged rows untouched, so triggers write no outbox row for them."""
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key.split(", "))
    old = ", ".join(f"{table}.{c}" for c in tracked)
    new = ", ".join(f"excluded.{c}" for c in tracked)
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE ({old}) IS NOT ({new})"
    )


UPSERT_PRODUCT = _upsert_sql("products", PRODUCT_COLS, "tenant, product_id", PRODUCT_CONTENT)
UPSERT_SKU = _upsert_sql("skus", SKU_COLS, "tenant, sku", SKU_TRACKED)
DELETE_STALE_SKUS = (
    "DELETE FROM skus WHERE tenant = ? AND product_id = ? "
    "AND sku NOT IN (SELECT value FROM json_each(?))"
)
# The oldest pending row of each SKU, unless it is leased: per-SKU order is kept across claimers.
CLAIMABLE = f"""
    SELECT o.id FROM outbox o
    WHERE o.done = 0 AND (o.leased_until IS NULL OR o.leased_until < {NOW})
      AND NOT EXISTS (SELECT 1 FROM outbox p
                      WHERE p.done = 0 AND p.tenant = o.tenant AND p.sku = o.sku AND p.id < o.id)
    ORDER BY o.id LIMIT ?"""
VERSION_OF = "(SELECT max(o.id) FROM outbox o WHERE o.tenant = s.tenant AND o.sku = s.sku)"
# One offer as JSON text: pydantic-core then parses and validates all offers in one call.
OFFER_JSON = f"""json_object('sku', s.sku,
    'price', json_object('amount', s.price_amount, 'currency', s.currency),
    'stock', json_object('quantity', s.stock_qty, 'availability', s.availability,
        'warehouses', CASE WHEN json_valid(s.warehouses) THEN json(s.warehouses) END,
        'synthetic', s.stock_synthetic),
    'as_of', ?, 'version', COALESCE({VERSION_OF}, 0))"""
IDS = "(SELECT value FROM json_each(?))"


def sqlite_path(url: str) -> str:
    """``sqlite:///abs/path.db`` -> ``/abs/path.db`` (``sqlite:rel.db`` stays relative)."""
    if not url.startswith("sqlite:"):
        raise ValueError(f"not a sqlite URL: {url!r}")
    rest = url.removeprefix("sqlite:").split("?", 1)[0]
    path = rest[2:] if rest.startswith("//") else rest
    if path in ("", ":memory:", "/:memory:"):
        raise ValueError("the SoR needs a file (API and worker share it), not in-memory SQLite")
    return path


def _unavailable(path: str, exc: sqlite3.Error) -> SorUnavailable:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return SorUnavailable(f"SQLite system of record {path} unusable: {first}", setting=SETTING)


class SqliteSor:
    """SystemOfRecord on one SQLite file; outbox rows come from triggers in ``schema.py``."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 10_000, poll_interval: float = 0.015):
        self.url = url
        self.path = sqlite_path(url)
        self._busy_ms = busy_timeout_ms
        self._poll = poll_interval
        self._w: sqlite3.Connection | None = None
        self._r: sqlite3.Connection | None = None
        self._wx: ThreadPoolExecutor | None = None
        self._rx: ThreadPoolExecutor | None = None

    # -- plumbing ----------------------------------------------------------------------------
    def _connect(self, *, writer: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_ms)}")
            if writer:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    try:
                        conn.executescript("BEGIN IMMEDIATE;\n" + SQLITE_DDL + "\nCOMMIT;")
                    finally:
                        if conn.in_transaction:
                            conn.rollback()
            else:
                conn.execute("PRAGMA query_only = 1")
        except BaseException:
            conn.close()
            raise
        return conn

    def _guard(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            if any(s in str(exc).lower() for s in _UNAVAILABLE):
                raise _unavailable(self.path, exc) from None
            raise

    async def _run(self, ex: ThreadPoolExecutor | None, fn: Callable[..., T], *args: Any) -> T:
        if ex is None:
            raise SorUnavailable(
                f"SQLite system of record {self.path} is not open", setting=SETTING
            )
        return await asyncio.get_running_loop().run_in_executor(ex, self._guard, fn, *args)

    def _tx_body(self, fn: Callable[..., T], *args: Any) -> T:
        conn = self._w
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn, *args)
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.rollback()
        return result

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one ``BEGIN IMMEDIATE`` transaction on the writer thread."""
        return await self._run(self._wx, self._tx_body, fn, *args)

    def _read_body(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._r is not None
        return fn(self._r, *args)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on the read connection (autocommit: one snapshot per query)."""
        return await self._run(self._rx, self._read_body, fn, *args)

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        """Create the schema if missing and open the writer and reader connections."""
        if self._wx is not None:
            return
        parent = Path(self.path).expanduser().parent
        if not parent.is_dir():
            raise SorUnavailable(
                f"SQLite system of record {self.path}: directory {parent} does not exist",
                setting=SETTING,
            )
        wx = ThreadPoolExecutor(1, thread_name_prefix="sor-sqlite-w")
        rx = ThreadPoolExecutor(1, thread_name_prefix="sor-sqlite-r")
        loop = asyncio.get_running_loop()
        try:
            self._w = await loop.run_in_executor(wx, self._guard, self._open_one, True)
            self._r = await loop.run_in_executor(rx, self._guard, self._open_one, False)
        except BaseException:
            await self._close_pair(wx, rx)
            raise
        self._wx, self._rx = wx, rx

    def _open_one(self, writer: bool) -> sqlite3.Connection:
        return self._connect(writer=writer)

    async def _close_pair(self, wx: ThreadPoolExecutor, rx: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        for ex, conn in ((wx, self._w), (rx, self._r)):
            if conn is not None:
                await loop.run_in_executor(ex, conn.close)
            ex.shutdown(wait=False)
        self._w = self._r = None

    async def close(self) -> None:
        if self._wx is None or self._rx is None:
            return
        wx, rx = self._wx, self._rx
        self._wx = self._rx = None
        await self._close_pair(wx, rx)

    async def ping(self) -> None:
        await self._read(lambda c: c.execute("SELECT count(*) FROM sqlite_master").fetchone())

    # -- catalog writes ----------------------------------------------------------------------
    async def upsert_products(self, products: Sequence[Product]) -> int:
        """Write products and SKUs in one transaction; returns how many products were given."""
        if not products:
            return 0
        now = _now_text()
        prows = [product_row(p, canonical_json) for p in products]
        srows = [
            sku_row(p.tenant, p.product_id, s, canonical_json, str, now)
            for p in products
            for s in p.skus
        ]
        keep = [(p.tenant, p.product_id, json.dumps([s.sku for s in p.skus])) for p in products]

        def run(conn: sqlite3.Connection) -> int:
            conn.executemany(UPSERT_PRODUCT, prows)
            conn.executemany(UPSERT_SKU, srows)
            conn.executemany(DELETE_STALE_SKUS, keep)
            return len(products)

        return await self._write(run)

    async def delete_product(self, tenant: str, product_id: str) -> int:
        """Delete a product and its SKUs; returns the number of SKUs deleted."""

        def run(conn: sqlite3.Connection) -> int:
            n = conn.execute(
                "DELETE FROM skus WHERE tenant = ? AND product_id = ?", (tenant, product_id)
            ).rowcount
            conn.execute(
                "DELETE FROM products WHERE tenant = ? AND product_id = ?", (tenant, product_id)
            )
            return int(n)

        return await self._write(run)

    async def delete_sku(self, tenant: str, sku: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM skus WHERE tenant = ? AND sku = ?", (tenant, sku))
            return cur.rowcount > 0

        return await self._write(run)

    async def _set(
        self, tenant: str, sku: str, cols: tuple[str, ...], vals: tuple[Any, ...]
    ) -> bool:
        """Update only when a value differs (no outbox row otherwise); True if the SKU exists."""
        sets = ", ".join(f"{c} = ?" for c in cols)
        sql = (
            f"UPDATE skus SET {sets}, updated_at = ? WHERE tenant = ? AND sku = ? "
            f"AND ({', '.join(cols)}) IS NOT ({', '.join('?' * len(cols))})"
        )

        def run(conn: sqlite3.Connection) -> bool:
            if conn.execute(sql, (*vals, _now_text(), tenant, sku, *vals)).rowcount:
                return True
            q = "SELECT 1 FROM skus WHERE tenant = ? AND sku = ?"
            return conn.execute(q, (tenant, sku)).fetchone() is not None

        return await self._write(run)

    async def set_price(self, tenant: str, sku: str, price: Money) -> bool:
        vals = (str(price_amount(price.amount)), price.currency)
        return await self._set(tenant, sku, ("price_amount", "currency"), vals)

    async def set_stock(self, tenant: str, sku: str, stock: Stock) -> bool:
        return await self._set(tenant, sku, SKU_STOCK, stock_values(stock, canonical_json))

    # -- reads -------------------------------------------------------------------------------
    async def get_offers(self, tenant: str, skus: Sequence[str]) -> dict[str, Offer]:
        """One indexed query for all SKUs; the version is the SKU's latest outbox id."""
        if not skus:
            return {}
        sql = f"SELECT {OFFER_JSON} FROM skus s WHERE s.tenant = ? AND s.sku IN {IDS}"
        args = (utcnow().isoformat(), tenant, json.dumps(list(dict.fromkeys(skus))))

        def run(conn: sqlite3.Connection) -> dict[str, Offer]:
            return offers_from_json([r[0] for r in conn.execute(sql, args)])

        return await self._read(run)

    async def get_product_by_sku(self, tenant: str, sku: str) -> Product | None:
        pcols = ", ".join(f"p.{c}" for c in PRODUCT_COLS)
        scols = ", ".join(f"s.{c}" for c in SKU_COLS)
        sql = (
            f"SELECT {pcols}, {scols} FROM skus s JOIN products p "
            "ON p.tenant = s.tenant AND p.product_id = s.product_id "
            "WHERE s.tenant = ? AND s.sku = ?"
        )

        def run(conn: sqlite3.Connection) -> Product | None:
            row = conn.execute(sql, (tenant, sku)).fetchone()
            if row is None:
                return None
            n = len(PRODUCT_COLS)
            return product_from_rows(row[:n], [sku_from_row(row[n:], json.loads)], json.loads)

        return await self._read(run)

    async def iter_products(self, tenant: str, page_size: int = 500) -> AsyncIterator[Product]:
        """Products by product_id in keyset pages; products with no SKU are skipped."""
        after = ""
        while True:
            page, last = await self._read(_product_page, tenant, after, page_size)
            for product in page:
                yield product
            if last is None:
                return
            after = last

    async def tenants(self) -> list[str]:
        sql = "SELECT DISTINCT tenant FROM products ORDER BY tenant"
        return await self._read(lambda c: [r[0] for r in c.execute(sql)])

    async def sku_versions(self, tenant: str) -> dict[str, int]:
        sql = f"SELECT s.sku, COALESCE({VERSION_OF}, 0) FROM skus s WHERE s.tenant = ?"
        return await self._read(lambda c: {r[0]: int(r[1]) for r in c.execute(sql, (tenant,))})

    # -- outbox ------------------------------------------------------------------------------
    async def claim_changes(self, limit: int, lease_seconds: float = 30.0) -> list[ChangeRow]:
        """Lease the oldest pending row of up to ``limit`` SKUs, in id order."""
        sql = (
            f"UPDATE outbox SET leased_until = strftime('%Y-%m-%d %H:%M:%f', 'now', ?) "
            f"WHERE id IN ({CLAIMABLE}) RETURNING {CHANGE_COLS}"
        )
        lease = f"+{max(lease_seconds, 0.0):.3f} seconds"

        def run(conn: sqlite3.Connection) -> list[ChangeRow]:
            rows = conn.execute(sql, (lease, int(limit))).fetchall()
            return sorted((change_from_row(r, json.loads) for r in rows), key=lambda c: c.id)

        return await self._write(run) if limit > 0 else []

    async def ack_changes(self, ids: Sequence[int]) -> None:
        sql = (
            f"UPDATE outbox SET done = 1, processed_at = {NOW}, leased_until = NULL "
            f"WHERE done = 0 AND id IN {IDS}"
        )
        if ids:
            await self._write(lambda c: c.execute(sql, (json.dumps([int(i) for i in ids]),)))

    async def release_changes(self, ids: Sequence[int], *, error: str) -> None:
        sql = (
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, leased_until = NULL "
            f"WHERE done = 0 AND id IN {IDS}"
        )
        if ids:
            args = (error, json.dumps([int(i) for i in ids]))
            await self._write(lambda c: c.execute(sql, args))

    async def wait_for_changes(self, timeout: float) -> None:
        """Poll for a claimable row every ``poll_interval`` until one exists or ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        sql = CLAIMABLE.replace("LIMIT ?", "LIMIT 1")
        while not await self._read(lambda c: c.execute(sql).fetchone() is not None):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await asyncio.sleep(min(self._poll, remaining))

    async def pending_changes(self) -> int:
        sql = "SELECT count(*) FROM outbox WHERE done = 0"
        return await self._read(lambda c: int(c.execute(sql).fetchone()[0]))

    async def oldest_pending_at(self) -> datetime | None:
        sql = "SELECT committed_at FROM outbox WHERE done = 0 ORDER BY id LIMIT 1"
        row = await self._read(lambda c: c.execute(sql).fetchone())
        return None if row is None else as_utc(row[0])

    async def compact_outbox(self) -> int:
        """Delete done rows superseded by a newer row of the same SKU (versions stay intact)."""
        sql = (
            "DELETE FROM outbox WHERE done = 1 AND id < (SELECT max(o.id) FROM outbox o "
            "WHERE o.tenant = outbox.tenant AND o.sku = outbox.sku)"
        )
        return await self._write(lambda c: int(c.execute(sql).rowcount))

    # -- dead-letter queue -------------------------------------------------------------------
    async def dead_letter(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> int:
        sql = "INSERT INTO dlq (source, event, reason, attempts) VALUES (?, ?, ?, ?) RETURNING id"
        args = (source, json.dumps(event, default=str), reason, int(attempts))
        return await self._write(lambda c: int(c.execute(sql, args).fetchone()[0]))

    async def list_dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        sql = f"SELECT {DLQ_COLS} FROM dlq ORDER BY id LIMIT ?"
        rows = await self._read(lambda c: c.execute(sql, (int(limit),)).fetchall())
        return [dead_letter_from_row(r, json.loads) for r in rows]

    async def pop_dead_letters(self, ids: Sequence[int] | None = None) -> list[DeadLetter]:
        if ids is not None and not ids:
            return []
        where = "" if ids is None else f" WHERE id IN {IDS}"
        sql = f"DELETE FROM dlq{where} RETURNING {DLQ_COLS}"
        args = () if ids is None else (json.dumps([int(i) for i in ids]),)
        rows = await self._write(lambda c: c.execute(sql, args).fetchall())
        return sorted((dead_letter_from_row(r, json.loads) for r in rows), key=lambda d: d.id)

    async def count_dead_letters(self) -> int:
        return await self._read(lambda c: int(c.execute("SELECT count(*) FROM dlq").fetchone()[0]))


def _now_text() -> str:
    """UTC in the same sortable text form as the schema's ``strftime`` defaults."""
    return utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _product_page(
    conn: sqlite3.Connection, tenant: str, after: str, size: int
) -> tuple[list[Product], str | None]:
    """One consistent page of products with their SKUs (a read transaction spans both queries)."""
    pcols = ", ".join(PRODUCT_COLS)
    conn.execute("BEGIN")
    try:
        prows = conn.execute(
            f"SELECT {pcols} FROM products WHERE tenant = ? AND product_id > ? "
            "ORDER BY product_id LIMIT ?",
            (tenant, after, size),
        ).fetchall()
        ids = json.dumps([r[1] for r in prows])
        srows = conn.execute(
            f"SELECT {', '.join(SKU_COLS)} FROM skus WHERE tenant = ? "
            f"AND product_id IN {IDS} ORDER BY product_id, sku",
            (tenant, ids),
        ).fetchall()
    finally:
        conn.execute("COMMIT")
    by_product: dict[str, list[Sku]] = {}
    for r in srows:
        by_product.setdefault(r[2], []).append(sku_from_row(r, json.loads))
    page = [product_from_rows(p, by_product[p[1]], json.loads) for p in prows if p[1] in by_product]
    last = prows[-1][1] if len(prows) == size else None
    return page, last
