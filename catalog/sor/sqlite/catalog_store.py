"""``CatalogStore`` on SQLite: every catalog write of this backend, then the reads.

Each write is one ``BEGIN IMMEDIATE`` transaction on the writer thread; the triggers of
``schema.py`` append its outbox rows in that same transaction. Reads use the read connection.
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
from catalog.tracing import current_traceparent

T = TypeVar("T")


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

        return await self._commit(run)

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

        return await self._commit(run)

    async def delete_sku(self, tenant: str, sku: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM skus WHERE tenant = ? AND sku = ?", (tenant, sku))
            return cur.rowcount > 0

        return await self._commit(run)

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

        return await self._commit(run)

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
