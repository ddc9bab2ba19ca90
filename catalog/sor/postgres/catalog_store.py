"""``CatalogStore`` on PostgreSQL: every catalog write of this backend, then the reads.

Writes are set-based (one statement per table from column arrays, not one per row) and each is
one transaction; the triggers of ``schema.py`` append its outbox rows in that same transaction.
The version guard (``catalog.sor.versions``) is in the same statements; versioned inserts and
deletes first take an advisory lock per key, so concurrent processes cannot both miss it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import psycopg

from catalog.models import Money, Offer, Product, Sku, Stock, utcnow
from catalog.sor.postgres.database import JSONB, PostgresDatabase
from catalog.sor.schema import (
    PRODUCT_COLS,
    PRODUCT_CONTENT,
    SKU_COLS,
    SKU_STOCK,
    SKU_TRACKED,
    TRACEPARENT_SETTING,
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
from catalog.sor.versions import product_version, refuse_or_log, sku_version
from catalog.tracing import current_traceparent

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
_P_WIDTH, _S_WIDTH = len(PRODUCT_COLS) + 1, len(SKU_COLS) + 1  # the columns and the version
_ANALYZE_AFTER = 5000  # SKU rows written: refresh planner stats so bulk loads plan well at once


def _newer(stored: str, v: str) -> str:
    """The guard of a row written at version ``v`` (NULL: an unversioned write, always applied)."""
    return f"({v} IS NULL OR {stored} IS NULL OR {v} >= {stored})"


def _upsert_sql(
    table: str,
    cols: tuple[str, ...],
    types: tuple[str, ...],
    key: str,
    tracked: tuple[str, ...],
    source: str = "",
    version: str = "u.applied_version",
) -> str:
    """Set-based versioned upsert from column arrays (one statement per table, not one per row).

    The WHERE leaves unchanged or newer rows untouched, so triggers write no outbox row for them.
    """
    cols_v, types_v = (*cols, "applied_version"), (*types, "bigint")
    keys = key.split(", ")
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    old = ", ".join(f"{table}.{c}" for c in tracked)
    new = ", ".join(f"excluded.{c}" for c in tracked)
    stored, v = f"{table}.applied_version", "excluded.applied_version"
    # Binary text arrays dump ~10x faster than jsonb[]; JSON travels as text and is cast here.
    arrays = ", ".join(f"%b::{'text' if t == 'jsonb' else t}[]" for t in types_v)
    values = ", ".join(
        f"u.{c}::jsonb" if t == "jsonb" else f"u.{c}" for c, t in zip(cols, types, strict=True)
    )
    return (
        f"INSERT INTO {table} ({', '.join(cols_v)}) SELECT {values}, {version} "
        f"FROM unnest({arrays}) AS u({', '.join(cols_v)}) {source}"
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}, applied_version = COALESCE({v}, {stored}) "
        f"WHERE {_newer(stored, v)} AND (({old}) IS DISTINCT FROM ({new}) "
        f"OR COALESCE({v}, {stored}) IS DISTINCT FROM {stored})"
    )


UPSERT_PRODUCT = _upsert_sql(
    "products", PRODUCT_COLS, _PRODUCT_TYPES, "tenant, product_id", PRODUCT_CONTENT
)
# A new SKU must be strictly newer than its tombstone, and inherits the tombstone's version
# when the write has none (so a later, older event is still refused).
UPSERT_SKU = _upsert_sql(
    "skus", SKU_COLS, _SKU_TYPES, "tenant, sku", SKU_TRACKED,
    source="LEFT JOIN sku_tombstones t ON t.tenant = u.tenant AND t.sku = u.sku "
    "WHERE u.applied_version IS NULL OR t.version IS NULL OR u.applied_version > t.version ",
    version="COALESCE(u.applied_version, t.version)",
)
_KEYS = "unnest(%b::text[], %b::text[])"
UNBURY = f"""DELETE FROM sku_tombstones t USING {_KEYS} AS k(tenant, sku)
    WHERE t.tenant = k.tenant AND t.sku = k.sku
      AND EXISTS (SELECT 1 FROM skus s WHERE s.tenant = k.tenant AND s.sku = k.sku)"""
STALE_SKUS = """SELECT k.sku FROM unnest(%b::text[], %b::text[], %b::bigint[]) AS k(tenant, sku, v)
    WHERE EXISTS (SELECT 1 FROM skus s
                  WHERE s.tenant = k.tenant AND s.sku = k.sku AND s.applied_version > k.v)
       OR EXISTS (SELECT 1 FROM sku_tombstones t
                  WHERE t.tenant = k.tenant AND t.sku = k.sku AND t.version >= k.v)"""
# A delete and its tombstones in one statement; ``{using}``/``{where}`` pick the deletable SKUs
# (``{v}`` is the delete's version) and the statement returns how many were deleted.
_BURY = """WITH d AS (
        DELETE FROM skus s {using} WHERE {where}
          AND ({v} IS NULL OR s.applied_version IS NULL OR s.applied_version <= {v})
        RETURNING s.tenant, s.sku, COALESCE({v}, s.applied_version) AS v),
    b AS (INSERT INTO sku_tombstones (tenant, sku, version)
        SELECT tenant, sku, v FROM d WHERE v IS NOT NULL
        ON CONFLICT (tenant, sku) DO UPDATE SET deleted_at = now(),
            version = GREATEST(sku_tombstones.version, excluded.version))
    SELECT count(*) FROM d"""
DELETE_UNLISTED = _BURY.format(
    using="USING unnest(%b::text[], %b::text[], %b::bigint[]) AS k(tenant, product_id, v)",
    where="s.tenant = k.tenant AND s.product_id = k.product_id "
    f"AND (s.tenant, s.sku) NOT IN (SELECT * FROM {_KEYS})",
    v="k.v",
)
DELETE_PRODUCT_SKUS = _BURY.format(
    using="", where="s.tenant = %(t)s AND s.product_id = %(p)s", v="%(v)s::bigint"
)
DELETE_SKU = _BURY.format(using="", where="s.tenant = %(t)s AND s.sku = %(s)s", v="%(v)s::bigint")
BURY_MISSING = """INSERT INTO sku_tombstones (tenant, sku, version) VALUES (%s, %s, %s)
    ON CONFLICT (tenant, sku) DO UPDATE
    SET version = GREATEST(sku_tombstones.version, excluded.version)"""
DROP_EMPTY_PRODUCTS = f"""DELETE FROM products p USING {_KEYS} AS k(tenant, product_id)
    WHERE p.tenant = k.tenant AND p.product_id = k.product_id
      AND NOT EXISTS (SELECT 1 FROM skus s
                      WHERE s.tenant = k.tenant AND s.product_id = k.product_id)"""
# Versioned inserts and deletes of one key take this lock first, so a delete's tombstone and a
# concurrent insert of the same SKU (or product) are never both missed (in any process).
LOCK_KEYS = """SELECT pg_advisory_xact_lock(h) FROM (
    SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(%s::text[]) AS k ORDER BY 1) x"""
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


def _lock_key(tenant: str, key: str) -> str:
    return f"shopkeeper\x1f{tenant}\x1f{key}"


class PostgresCatalog(PostgresDatabase):
    """Products, SKUs, price and stock on PostgreSQL: the writes first, then the reads."""

    _written = 0  # SKU rows written since the last ANALYZE (per instance once incremented)

    @contextlib.asynccontextmanager
    async def _tx(self, *, single: bool = False) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A write transaction that hands the active span's traceparent to the outbox rows its
        triggers add (the column default reads it); ``single``: one statement, so without a
        span no BEGIN/COMMIT round trips are spent."""
        tp = current_traceparent()
        async with self._conn() as conn:
            if tp is None and single:
                yield conn
                return
            async with conn.transaction():
                if tp is not None:
                    await conn.execute("SELECT set_config(%s, %s, true)", (TRACEPARENT_SETTING, tp))
                yield conn

    # -- writes (all of them: each one transaction, captured in the outbox by triggers) -------
    async def upsert_products(
        self, products: Sequence[Product], *, version: int | None = None
    ) -> int:
        """Write products and SKUs in one transaction; returns how many products were given."""
        if not products:
            return 0
        now = utcnow()
        # Last one wins for a repeated key, as row-by-row writes would (and ON CONFLICT requires).
        prows = {
            (p.tenant, p.product_id): (*product_row(p, canonical_json), product_version(p, version))
            for p in products
        }
        srows = {
            (p.tenant, s.sku): (
                *sku_row(p.tenant, p.product_id, s, canonical_json, identity, now),
                sku_version(s, version),
            )
            for p in products
            for s in p.skus
        }
        tenants, skus = zip(*srows, strict=True)
        p_tenants, p_ids = zip(*prows, strict=True)
        versioned = [(*k, r[-1]) for k, r in srows.items() if r[-1] is not None]
        locks = [_lock_key(t, f"product:{i}") for t, i in prows] + [
            _lock_key(t, s) for t, s, _ in versioned
        ]
        unlisted = (list(p_tenants), list(p_ids), [r[-1] for r in prows.values()])
        async with self._tx() as conn:
            if versioned:
                await conn.execute(LOCK_KEYS, (locks,))
            await conn.execute(UPSERT_PRODUCT, _columns(prows.values(), _P_WIDTH))
            cur = await conn.execute(UPSERT_SKU, _columns(srows.values(), _S_WIDTH))
            changed = cur.rowcount  # SKU rows written or moved to the newer version
            await conn.execute(UNBURY, (list(tenants), list(skus)))
            cur = await conn.execute(DELETE_UNLISTED, (*unlisted, list(tenants), list(skus)))
            changed += int((await cur.fetchone() or (0,))[0])
            await conn.execute(DROP_EMPTY_PRODUCTS, (list(p_tenants), list(p_ids)))
            stale: list[str] = []
            if versioned:
                cur = await conn.execute(STALE_SKUS, _columns(versioned, 3))
                stale = [r[0] for r in await cur.fetchall()]
            self._written += len(srows)
            if self._written >= _ANALYZE_AFTER:
                await conn.execute("ANALYZE products, skus, outbox")
                self._written = 0
        refuse_or_log(products[0].tenant, stale, changed, version)
        return len(products)

    async def delete_product(
        self, tenant: str, product_id: str, *, version: int | None = None
    ) -> int:
        """Delete a product's SKUs not newer than ``version``; returns how many were deleted."""
        args = {"t": tenant, "p": product_id, "v": version}
        async with self._tx() as conn:
            if version is not None:
                await conn.execute(LOCK_KEYS, ([_lock_key(tenant, f"product:{product_id}")],))
            cur = await conn.execute(DELETE_PRODUCT_SKUS, args)
            n = int((await cur.fetchone() or (0,))[0])
            await conn.execute(DROP_EMPTY_PRODUCTS, ([tenant], [product_id]))
            if not n and version is not None:
                cur = await conn.execute(
                    "SELECT sku FROM skus WHERE tenant = %s AND product_id = %s ORDER BY sku",
                    (tenant, product_id),
                )
                refuse_or_log(tenant, [r[0] for r in await cur.fetchall()], 0, version)
        return n

    async def delete_sku(self, tenant: str, sku: str, *, version: int | None = None) -> bool:
        """Delete a SKU unless it is newer than ``version``; a versioned delete is tombstoned."""
        async with self._tx() as conn:
            if version is not None:
                await conn.execute(LOCK_KEYS, ([_lock_key(tenant, sku)],))
            cur = await conn.execute(DELETE_SKU, {"t": tenant, "s": sku, "v": version})
            if int((await cur.fetchone() or (0,))[0]):
                return True
            if version is not None:
                cur = await conn.execute(
                    "SELECT 1 FROM skus WHERE tenant = %s AND sku = %s", (tenant, sku)
                )
                if await cur.fetchone():
                    refuse_or_log(tenant, [sku], 0, version)
                await conn.execute(BURY_MISSING, (tenant, sku, version))
        return False

    async def _set(
        self,
        tenant: str,
        sku: str,
        cols: tuple[str, ...],
        vals: tuple[Any, ...],
        version: int | None,
    ) -> bool:
        """Update when a value or the version moves and the SKU is not newer; True if it exists."""
        sets = ", ".join(f"{c} = %s" for c in cols)
        v = "%s::bigint"
        query = (
            f"UPDATE skus SET {sets}, updated_at = now(), "
            f"applied_version = COALESCE({v}, applied_version) "
            f"WHERE tenant = %s AND sku = %s AND {_newer('applied_version', v)} "
            f"AND (({', '.join(cols)}) IS DISTINCT FROM ({', '.join(['%s'] * len(cols))}) "
            f"OR COALESCE({v}, applied_version) IS DISTINCT FROM applied_version)"
        )
        args = (*vals, version, tenant, sku, version, version, *vals, version)
        async with self._tx() as conn:
            cur = await conn.execute(query, args)
            if cur.rowcount:
                return True
            cur = await conn.execute(
                "SELECT applied_version FROM skus WHERE tenant = %s AND sku = %s", (tenant, sku)
            )
            row = await cur.fetchone()
            if version is not None:
                if row is not None and row[0] is not None and row[0] > version:
                    refuse_or_log(tenant, [sku], 0, version)
                cur = await conn.execute(
                    "SELECT 1 FROM sku_tombstones WHERE tenant = %s AND sku = %s AND version >= %s",
                    (tenant, sku, version),
                )
                if row is None and await cur.fetchone():
                    refuse_or_log(tenant, [sku], 0, version)  # deleted after this change
        return row is not None

    async def set_price(
        self, tenant: str, sku: str, price: Money, *, version: int | None = None
    ) -> bool:
        vals = (price_amount(price.amount), price.currency)
        return await self._set(tenant, sku, ("price_amount", "currency"), vals, version)

    async def set_stock(
        self, tenant: str, sku: str, stock: Stock, *, version: int | None = None
    ) -> bool:
        return await self._set(tenant, sku, SKU_STOCK, stock_values(stock, JSONB), version)

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
            async with self._tx() as conn:
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
