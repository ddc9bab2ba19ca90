"""``CatalogStore`` on PostgreSQL: every catalog write of this backend, then the reads.

Writes are set-based (one statement per table from column arrays, not one per row) and each is
one transaction; the triggers of ``schema.py`` append its outbox rows in that same transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from catalog.models import Money, Offer, Product, Sku, Stock, utcnow
from catalog.sor.postgres.database import JSONB, PostgresDatabase
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
    identity,
    offers_from_json,
    price_amount,
    product_from_rows,
    product_row,
    sku_from_row,
    sku_row,
    stock_values,
)

_PRODUCT_TYPES = ("text",) * 6 + ("jsonb", "text", "text")
_SKU_TYPES: tuple[str, ...] = ("text",) * 5 + (
    "jsonb",
    "jsonb",
    "text",
    "numeric",
    "text",
    "int",
    "text",
)
_SKU_TYPES += ("jsonb", "bool", "timestamptz", "text")  # ..., updated_at, url
_ANALYZE_AFTER = 5000  # SKU rows written: refresh planner stats so bulk loads plan well at once


def _upsert_sql(
    table: str, cols: tuple[str, ...], types: tuple[str, ...], key: str, tracked: tuple[str, ...]
) -> str:
    """Set-based upsert from column arrays (one statement per table, not one per row).

    The WHERE leaves unchanged rows untouched, so triggers write no outbox row for them.
    """
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key.split(", "))
    old = ", ".join(f"{table}.{c}" for c in tracked)
    new = ", ".join(f"excluded.{c}" for c in tracked)
    # Binary text arrays dump ~10x faster than jsonb[]; JSON travels as text and is cast here.
    arrays = ", ".join(f"%b::{'text' if t == 'jsonb' else t}[]" for t in types)
    values = ", ".join(
        f"{c}::jsonb" if t == "jsonb" else c for c, t in zip(cols, types, strict=True)
    )
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {values} "
        f"FROM unnest({arrays}) AS u({', '.join(cols)}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new})"
    )


UPSERT_PRODUCT = _upsert_sql(
    "products", PRODUCT_COLS, _PRODUCT_TYPES, "tenant, product_id", PRODUCT_CONTENT
)
UPSERT_SKU = _upsert_sql("skus", SKU_COLS, _SKU_TYPES, "tenant, sku", SKU_TRACKED)
DELETE_STALE_SKUS = """
    DELETE FROM skus s USING unnest(%b::text[], %b::text[]) AS k(tenant, product_id)
    WHERE s.tenant = k.tenant AND s.product_id = k.product_id
      AND (s.tenant, s.sku) NOT IN (SELECT * FROM unnest(%b::text[], %b::text[]))"""
# One offer as JSON text: pydantic-core then parses and validates all offers in one call.
OFFER_JSON = f"""json_build_object('sku', s.sku,
    'price', json_build_object('amount', s.price_amount::text, 'currency', s.currency),
    'stock', json_build_object('quantity', s.stock_qty, 'availability', s.availability,
        'warehouses', s.warehouses, 'synthetic', s.stock_synthetic),
    'as_of', %s::text, 'version', COALESCE({VERSION_OF}, 0))::text"""


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    """Transpose row tuples into one list per column, for ``unnest``."""
    cols: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for i, v in enumerate(row):
            cols[i].append(v)
    return cols


class PostgresCatalog(PostgresDatabase):
    """Products, SKUs, price and stock on PostgreSQL: the writes first, then the reads."""

    _written = 0  # SKU rows written since the last ANALYZE (per instance once incremented)

    # -- writes (all of them: each one transaction, captured in the outbox by triggers) -------
    async def upsert_products(self, products: Sequence[Product]) -> int:
        """Write products and SKUs in one transaction; returns how many products were given."""
        if not products:
            return 0
        now = utcnow()
        # Last one wins for a repeated key, as row-by-row writes would (and ON CONFLICT requires).
        prows = {(p.tenant, p.product_id): product_row(p, canonical_json) for p in products}
        srows = {
            (p.tenant, s.sku): sku_row(p.tenant, p.product_id, s, canonical_json, identity, now)
            for p in products
            for s in p.skus
        }
        tenants, skus = zip(*srows, strict=True)
        p_tenants, p_ids = zip(*prows, strict=True)
        async with self._conn() as conn, conn.transaction():
            await conn.execute(UPSERT_PRODUCT, _columns(prows.values(), len(PRODUCT_COLS)))
            await conn.execute(UPSERT_SKU, _columns(srows.values(), len(SKU_COLS)))
            await conn.execute(
                DELETE_STALE_SKUS, (list(p_tenants), list(p_ids), list(tenants), list(skus))
            )
            self._written += len(srows)
            if self._written >= _ANALYZE_AFTER:
                await conn.execute("ANALYZE products, skus, outbox")
                self._written = 0
        return len(products)

    async def delete_product(self, tenant: str, product_id: str) -> int:
        """Delete a product and its SKUs; returns the number of SKUs deleted."""
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM skus WHERE tenant = %s AND product_id = %s", (tenant, product_id)
            )
            n = cur.rowcount
            await conn.execute(
                "DELETE FROM products WHERE tenant = %s AND product_id = %s", (tenant, product_id)
            )
        return max(n, 0)

    async def delete_sku(self, tenant: str, sku: str) -> bool:
        async with self._conn() as conn:
            cur = await conn.execute(
                "DELETE FROM skus WHERE tenant = %s AND sku = %s", (tenant, sku)
            )
            return cur.rowcount > 0

    async def _set(
        self, tenant: str, sku: str, cols: tuple[str, ...], vals: tuple[Any, ...]
    ) -> bool:
        """Update only when a value differs (no outbox row otherwise); True if the SKU exists."""
        sets = ", ".join(f"{c} = %s" for c in cols)
        query = (
            f"WITH u AS (UPDATE skus SET {sets}, updated_at = now() WHERE tenant = %s AND sku = %s"
            f" AND ({', '.join(cols)}) IS DISTINCT FROM ({', '.join(['%s'] * len(cols))})"
            " RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)"
            " OR EXISTS (SELECT 1 FROM skus WHERE tenant = %s AND sku = %s)"
        )
        row = await self._fetchone(query, (*vals, tenant, sku, *vals, tenant, sku))
        return bool(row and row[0])

    async def set_price(self, tenant: str, sku: str, price: Money) -> bool:
        vals = (price_amount(price.amount), price.currency)
        return await self._set(tenant, sku, ("price_amount", "currency"), vals)

    async def set_stock(self, tenant: str, sku: str, stock: Stock) -> bool:
        return await self._set(tenant, sku, SKU_STOCK, stock_values(stock, JSONB))

    # -- reads -------------------------------------------------------------------------------
    async def get_offers(self, tenant: str, skus: Sequence[str]) -> dict[str, Offer]:
        """One indexed query for all SKUs; the version is the SKU's latest outbox id."""
        if not skus:
            return {}
        # A LATERAL primary-key probe per SKU: the plan stays right even before ANALYZE has run
        # (a plain ``sku = ANY(...)`` then scans the whole tenant: 20 ms at 20k SKUs).
        query = (
            f"SELECT {OFFER_JSON} FROM unnest(%s::text[]) AS k(sku) CROSS JOIN LATERAL "
            "(SELECT * FROM skus x WHERE x.tenant = %s AND x.sku = k.sku LIMIT 1) s"
        )
        rows = await self._fetchall(
            query, (utcnow().isoformat(), list(dict.fromkeys(skus)), tenant)
        )
        return offers_from_json([r[0] for r in rows])

    async def get_product_by_sku(self, tenant: str, sku: str) -> Product | None:
        pcols = ", ".join(f"p.{c}" for c in PRODUCT_COLS)
        scols = ", ".join(f"s.{c}" for c in SKU_COLS)
        row = await self._fetchone(
            f"SELECT {pcols}, {scols} FROM skus s JOIN products p "
            "ON p.tenant = s.tenant AND p.product_id = s.product_id "
            "WHERE s.tenant = %s AND s.sku = %s",
            (tenant, sku),
        )
        if row is None:
            return None
        n = len(PRODUCT_COLS)
        return product_from_rows(row[:n], [sku_from_row(row[n:], identity)], identity)

    async def iter_products(self, tenant: str, page_size: int = 500) -> AsyncIterator[Product]:
        """Products by product_id in keyset pages; products with no SKU are skipped."""
        after = ""
        while True:
            async with self._conn() as conn, conn.transaction():
                cur = await conn.execute(
                    f"SELECT {', '.join(PRODUCT_COLS)} FROM products WHERE tenant = %s"
                    " AND product_id > %s ORDER BY product_id LIMIT %s",
                    (tenant, after, page_size),
                )
                prows = await cur.fetchall()
                cur = await conn.execute(
                    f"SELECT {', '.join(SKU_COLS)} FROM skus WHERE tenant = %s"
                    " AND product_id = ANY(%s) ORDER BY product_id, sku",
                    (tenant, [r[1] for r in prows]),
                )
                srows = await cur.fetchall()
            by_product: dict[str, list[Sku]] = {}
            for r in srows:
                by_product.setdefault(r[2], []).append(sku_from_row(r, identity))
            for p in prows:
                if p[1] in by_product:
                    yield product_from_rows(p, by_product[p[1]], identity)
            if len(prows) < page_size:
                return
            after = prows[-1][1]

    async def tenants(self) -> list[str]:
        rows = await self._fetchall("SELECT DISTINCT tenant FROM products ORDER BY tenant")
        return [r[0] for r in rows]

    async def sku_versions(self, tenant: str) -> dict[str, int]:
        query = f"SELECT s.sku, COALESCE({VERSION_OF}, 0) FROM skus s WHERE s.tenant = %s"
        return {r[0]: int(r[1]) for r in await self._fetchall(query, (tenant,))}
