"""``CatalogStore`` on SQLite: every catalog write of this backend, then the reads.

Each write is one ``BEGIN IMMEDIATE`` transaction on the writer thread; the triggers of
``schema.py`` append its outbox rows in that same transaction, and its version guard
(``catalog.sor.versions``) is part of the same statements. Reads use the read connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from catalog.models import Money, Offer, Product, Sku, Stock, utcnow
from catalog.sor.schema import (
    PRODUCT_COLS,
    PRODUCT_CONTENT,
    SKU_COLS,
    SKU_STOCK,
    SKU_TRACKED,
    VERSION_OF,
)
from catalog.sor.schema_rows import (
    canonical_json,
    offers_from_json,
    price_amount,
    product_from_rows,
    product_row,
    sku_from_row,
    sku_row,
    stock_values,
)
from catalog.sor.sqlite.database import IDS, SqliteDatabase
from catalog.sor.versions import product_version, refuse_or_log, sku_version
from catalog.tracing import current_traceparent


def _newer(stored: str, v: str) -> str:
    """The guard of a row written at version ``v`` (NULL: an unversioned write, always applied)."""
    return f"({v} IS NULL OR {stored} IS NULL OR {v} >= {stored})"

T = TypeVar("T")


def _upsert_sql(table: str, cols: tuple[str, ...], key: str, tracked: tuple[str, ...]) -> str:
    """Versioned upsert: leaves unchanged or newer rows untouched (no outbox row for them)."""
    keys = key.split(", ")
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    old = ", ".join(f"{table}.{c}" for c in tracked)
    new = ", ".join(f"excluded.{c}" for c in tracked)
    stored, v = f"{table}.applied_version", "excluded.applied_version"
    moved = f"COALESCE({v}, {stored}) IS NOT {stored}"
    return (
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}, applied_version = COALESCE({v}, {stored}) "
        f"WHERE {_newer(stored, v)} AND (({old}) IS NOT ({new}) OR {moved})"
    )


_N = len(SKU_COLS) + 1  # the version's parameter number, after the SKU columns
UPSERT_PRODUCT = (
    f"INSERT INTO products ({', '.join(PRODUCT_COLS)}, applied_version) "
    f"VALUES ({', '.join('?' * (len(PRODUCT_COLS) + 1))}) "
    + _upsert_sql("products", PRODUCT_COLS, "tenant, product_id", PRODUCT_CONTENT)
)
# A new SKU must be strictly newer than its tombstone, and inherits the tombstone's version
# when the write has none (so a later, older event is still refused).
UPSERT_SKU = (
    f"INSERT INTO skus ({', '.join(SKU_COLS)}, applied_version) "
    f"SELECT {', '.join(f'?{i}' for i in range(1, _N))}, COALESCE(?{_N}, t.version) "
    "FROM (SELECT 1) LEFT JOIN sku_tombstones t ON t.tenant = ?1 AND t.sku = ?2 "
    f"WHERE ?{_N} IS NULL OR t.version IS NULL OR ?{_N} > t.version "
    + _upsert_sql("skus", SKU_COLS, "tenant, sku", SKU_TRACKED)
)
# A SKU live again is no longer tombstoned.
UNBURY = (
    "DELETE FROM sku_tombstones WHERE tenant = ?1 AND sku = ?2 "
    "AND EXISTS (SELECT 1 FROM skus WHERE tenant = ?1 AND sku = ?2)"
)
# Versioned SKUs of a write that the SoR holds newer (live, or deleted at >= their version).
STALE_SKUS = """SELECT json_extract(k.value, '$[1]') FROM json_each(?) k WHERE EXISTS (
    SELECT 1 FROM skus s WHERE s.tenant = json_extract(k.value, '$[0]')
    AND s.sku = json_extract(k.value, '$[1]') AND s.applied_version > json_extract(k.value, '$[2]')
) OR EXISTS (
    SELECT 1 FROM sku_tombstones t WHERE t.tenant = json_extract(k.value, '$[0]')
    AND t.sku = json_extract(k.value, '$[1]') AND t.version >= json_extract(k.value, '$[2]'))"""
# Deletes: ``WHERE`` picks the SKUs a delete at version ?3 may remove; the tombstone goes first.
_DELETABLE = "(?3 IS NULL OR applied_version IS NULL OR applied_version <= ?3)"
_BURY = (
    "INSERT INTO sku_tombstones (tenant, sku, version) "
    "SELECT tenant, sku, COALESCE(?3, applied_version) FROM skus WHERE {where} "
    "AND COALESCE(?3, applied_version) IS NOT NULL "
    "ON CONFLICT (tenant, sku) DO UPDATE SET version = max(version, excluded.version), "
    "deleted_at = excluded.deleted_at"
)
_SKU = f"tenant = ?1 AND sku = ?2 AND {_DELETABLE}"
_OF_PRODUCT = f"tenant = ?1 AND product_id = ?2 AND {_DELETABLE}"
_UNLISTED = f"{_OF_PRODUCT} AND sku NOT IN (SELECT value FROM json_each(?4))"
BURY_SKU, DELETE_SKU = _BURY.format(where=_SKU), f"DELETE FROM skus WHERE {_SKU}"
BURY_PRODUCT = _BURY.format(where=_OF_PRODUCT)
DELETE_PRODUCT_SKUS = f"DELETE FROM skus WHERE {_OF_PRODUCT}"
BURY_UNLISTED = _BURY.format(where=_UNLISTED)
DELETE_UNLISTED = f"DELETE FROM skus WHERE {_UNLISTED}"
BURY_MISSING = (
    "INSERT INTO sku_tombstones (tenant, sku, version) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (tenant, sku) DO UPDATE SET version = max(version, excluded.version)"
)
DROP_EMPTY_PRODUCT = (
    "DELETE FROM products WHERE tenant = ?1 AND product_id = ?2 "
    "AND NOT EXISTS (SELECT 1 FROM skus WHERE tenant = ?1 AND product_id = ?2)"
)
# One offer as JSON text: pydantic-core then parses and validates all offers in one call.
OFFER_JSON = f"""json_object('sku', s.sku,
    'price', json_object('amount', s.price_amount, 'currency', s.currency),
    'stock', json_object('quantity', s.stock_qty, 'availability', s.availability,
        'warehouses', CASE WHEN json_valid(s.warehouses) THEN json(s.warehouses) END,
        'synthetic', s.stock_synthetic),
    'as_of', ?, 'version', COALESCE({VERSION_OF}, 0))"""


class SqliteCatalog(SqliteDatabase):
    """Products, SKUs, price and stock on SQLite: the writes first, then the reads."""

    async def _commit(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``_write``, and when a span is active its traceparent on the outbox rows the triggers
        added: the write lock is held, so every row past the first id is this transaction's."""
        tp = current_traceparent()  # read here: the writer thread has no trace context
        if tp is None:
            return await self._write(fn)

        def run(conn: sqlite3.Connection) -> T:
            first = conn.execute("SELECT COALESCE(max(id), 0) FROM outbox").fetchone()[0]
            result = fn(conn)
            conn.execute("UPDATE outbox SET traceparent = ? WHERE id > ?", (tp, first))
            return result

        return await self._write(run)

    # -- writes (all of them: each one transaction, captured in the outbox by triggers) -------
    async def upsert_products(
        self, products: Sequence[Product], *, version: int | None = None
    ) -> int:
        """Write products and SKUs in one transaction; returns how many products were given."""
        if not products:
            return 0
        now = _now_text()
        prows = [(*product_row(p, canonical_json), product_version(p, version)) for p in products]
        srows = [
            (*sku_row(p.tenant, p.product_id, s, canonical_json, str, now), sku_version(s, version))
            for p in products
            for s in p.skus
        ]
        keep = [
            (p.tenant, p.product_id, v, json.dumps([s.sku for s in p.skus]))
            for p, (*_, v) in zip(products, prows, strict=True)
        ]
        versioned = [[r[0], r[1], r[-1]] for r in srows if r[-1] is not None]

        def run(conn: sqlite3.Connection) -> tuple[list[str], int]:
            conn.executemany(UPSERT_PRODUCT, prows)
            changed = conn.executemany(UPSERT_SKU, srows).rowcount  # SKU rows written or moved
            conn.executemany(UNBURY, [r[:2] for r in srows])
            conn.executemany(BURY_UNLISTED, keep)
            changed += conn.executemany(DELETE_UNLISTED, keep).rowcount
            conn.executemany(DROP_EMPTY_PRODUCT, [r[:2] for r in prows])
            if not versioned:
                return [], changed
            return [r[0] for r in conn.execute(STALE_SKUS, (json.dumps(versioned),))], changed

        stale, changed = await self._commit(run)
        refuse_or_log(products[0].tenant, stale, changed, version)
        return len(products)

    async def delete_product(
        self, tenant: str, product_id: str, *, version: int | None = None
    ) -> int:
        """Delete a product's SKUs not newer than ``version``; returns how many were deleted."""

        def run(conn: sqlite3.Connection) -> int:
            args = (tenant, product_id, version)
            conn.execute(BURY_PRODUCT, args)
            n = int(conn.execute(DELETE_PRODUCT_SKUS, args).rowcount)
            conn.execute(DROP_EMPTY_PRODUCT, args[:2])
            if not n and version is not None:
                kept = conn.execute(
                    "SELECT sku FROM skus WHERE tenant = ? AND product_id = ? ORDER BY sku",
                    args[:2],
                ).fetchall()
                refuse_or_log(tenant, [r[0] for r in kept], 0, version)
            return n

        return await self._commit(run)

    async def delete_sku(self, tenant: str, sku: str, *, version: int | None = None) -> bool:
        """Delete a SKU unless it is newer than ``version``; a versioned delete is tombstoned."""

        def run(conn: sqlite3.Connection) -> bool:
            args = (tenant, sku, version)
            conn.execute(BURY_SKU, args)
            if conn.execute(DELETE_SKU, args).rowcount:
                return True
            if version is not None:
                if _exists(conn, tenant, sku):
                    refuse_or_log(tenant, [sku], 0, version)
                conn.execute(BURY_MISSING, args)  # deleted before it was ever created
            return False

        return await self._commit(run)

    async def _set(
        self,
        tenant: str,
        sku: str,
        cols: tuple[str, ...],
        vals: tuple[Any, ...],
        version: int | None,
    ) -> bool:
        """Update when a value or the version moves and the SKU is not newer; True if it exists."""
        sets = ", ".join(f"{c} = ?" for c in cols)
        moved = "COALESCE(?, applied_version) IS NOT applied_version"
        sql = (
            f"UPDATE skus SET {sets}, updated_at = ?, applied_version = COALESCE(?, "
            f"applied_version) WHERE tenant = ? AND sku = ? AND {_newer('applied_version', '?')} "
            f"AND (({', '.join(cols)}) IS NOT ({', '.join('?' * len(cols))}) OR {moved})"
        )
        args = (*vals, _now_text(), version, tenant, sku, version, version, *vals, version)

        def run(conn: sqlite3.Connection) -> bool:
            if conn.execute(sql, args).rowcount:
                return True
            q = "SELECT applied_version FROM skus WHERE tenant = ? AND sku = ?"
            row = conn.execute(q, (tenant, sku)).fetchone()
            if version is not None:
                if row is not None and row[0] is not None and row[0] > version:
                    refuse_or_log(tenant, [sku], 0, version)
                q = "SELECT 1 FROM sku_tombstones WHERE tenant = ? AND sku = ? AND version >= ?"
                if row is None and conn.execute(q, (tenant, sku, version)).fetchone():
                    refuse_or_log(tenant, [sku], 0, version)  # deleted after this change
            return row is not None

        return await self._commit(run)

    async def set_price(
        self, tenant: str, sku: str, price: Money, *, version: int | None = None
    ) -> bool:
        vals = (str(price_amount(price.amount)), price.currency)
        return await self._set(tenant, sku, ("price_amount", "currency"), vals, version)

    async def set_stock(
        self, tenant: str, sku: str, stock: Stock, *, version: int | None = None
    ) -> bool:
        vals = stock_values(stock, canonical_json)
        return await self._set(tenant, sku, SKU_STOCK, vals, version)

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


def _exists(conn: sqlite3.Connection, tenant: str, sku: str) -> bool:
    q = "SELECT 1 FROM skus WHERE tenant = ? AND sku = ?"
    return conn.execute(q, (tenant, sku)).fetchone() is not None


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
