"""System of record on PostgreSQL (psycopg 3 async pool), for deployments with several processes.

Outbox rows come from triggers (``schema.py``); a statement trigger on ``outbox`` sends
``pg_notify('shopkeeper_outbox')`` which a dedicated LISTEN connection turns into a wake-up for
``wait_for_changes``. Claims use ``FOR UPDATE SKIP LOCKED`` so many workers can share one outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from catalog.errors import SorUnavailable
from catalog.models import Money, Offer, Product, Sku, Stock, utcnow
from catalog.sor.base import ChangeRow, DeadLetter
from catalog.sor.schema import (
    NOTIFY_CHANNEL,
    POSTGRES_DDL,
    PRODUCT_COLS,
    PRODUCT_CONTENT,
    SCHEMA_VERSION,
    SKU_COLS,
    SKU_STOCK,
    SKU_TRACKED,
)
from catalog.sor.schema_rows import (
    CHANGE_COLS,
    DLQ_COLS,
    as_utc,
    canonical_json,
    change_from_row,
    dead_letter_from_row,
    identity,
    offers_from_json,
    price_amount,
    product_from_rows,
    product_row,
    sku_from_row,
    sku_row,
    stock_values,
)

SETTING = "SHOPKEEPER_SOR_URL"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SEARCH_PATH = re.compile(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)")
_JSONB = partial(Jsonb, dumps=partial(json.dumps, default=str))


_PRODUCT_TYPES = ("text",) * 6 + ("jsonb", "text")
_SKU_TYPES: tuple[str, ...] = ("text",) * 5 + (
    "jsonb",
    "jsonb",
    "text",
    "numeric",
    "text",
    "int",
    "text",
)
_SKU_TYPES += ("jsonb", "bool", "timestamptz", "text")


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
# The oldest pending row of each SKU, unless it is leased: per-SKU order is kept across claimers.
CLAIMABLE = """
    SELECT o.id FROM outbox o
    WHERE NOT o.done AND (o.leased_until IS NULL OR o.leased_until < clock_timestamp())
      AND NOT EXISTS (SELECT 1 FROM outbox p
                      WHERE NOT p.done AND p.tenant = o.tenant AND p.sku = o.sku AND p.id < o.id)
    ORDER BY o.id"""
VERSION_OF = "(SELECT max(o.id) FROM outbox o WHERE o.tenant = s.tenant AND o.sku = s.sku)"
# One offer as JSON text: pydantic-core then parses and validates all offers in one call.
OFFER_JSON = f"""json_build_object('sku', s.sku,
    'price', json_build_object('amount', s.price_amount::text, 'currency', s.currency),
    'stock', json_build_object('quantity', s.stock_qty, 'availability', s.availability,
        'warehouses', s.warehouses, 'synthetic', s.stock_synthetic),
    'as_of', %s::text, 'version', COALESCE({VERSION_OF}, 0))::text"""
NOTIFY = f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"


_ANALYZE_AFTER = 5000  # SKU rows written: refresh planner stats so bulk loads plan well at once


def _prefixed(prefix: str, cols: str) -> str:
    return ", ".join(prefix + c for c in cols.split(", "))


def _columns(rows: Any, width: int) -> list[list[Any]]:
    """Transpose row tuples into one list per column, for ``unnest``."""
    cols: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for i, v in enumerate(row):
            cols[i].append(v)
    return cols


class PostgresSor:
    """SystemOfRecord on PostgreSQL; ``schema`` isolates it in one schema (created if missing)."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        connect_timeout: float = 2.0,
        pool_timeout: float = 5.0,
    ) -> None:
        self.url = url
        params: dict[str, Any] = conninfo_to_dict(url)
        if schema is not None:
            if not _SCHEMA_NAME.match(schema):
                raise ValueError(f"invalid schema name {schema!r}")
            params["options"] = f"{params.get('options', '')} -c search_path={schema}".strip()
        else:
            found = _SEARCH_PATH.search(str(params.get("options", "")))
            schema = found.group(1) if found else None
        params.setdefault("connect_timeout", str(max(1, round(connect_timeout))))
        self.schema = schema
        self._conninfo = make_conninfo(**params)
        self._where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
        self._where += f"/{params.get('dbname', '')}"
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._sizes = (min_size, max_size)
        self._pool: AsyncConnectionPool | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = False
        self._wake = asyncio.Event()
        self._written = 0

    # -- plumbing ----------------------------------------------------------------------------
    def _unavailable(self, exc: BaseException) -> SorUnavailable:
        text = str(exc).strip().splitlines()
        first = text[0] if text else type(exc).__name__
        msg = f"PostgreSQL system of record at {self._where} unreachable: {first}"
        return SorUnavailable(msg, setting=SETTING)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        """A fresh autocommit connection, failing fast (``connect_timeout``) as SorUnavailable."""
        try:
            return await asyncio.wait_for(
                psycopg.AsyncConnection.connect(self._conninfo, autocommit=True),
                self._connect_timeout + 1,
            )
        except (psycopg.Error, OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from None

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._pool is None:
            raise SorUnavailable(
                f"PostgreSQL system of record {self._where} is not open", setting=SETTING
            )
        try:
            async with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise self._unavailable(exc) from None

    async def _fetchall(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._conn() as conn:
            cur = await conn.execute(query, args)
            return await cur.fetchall()

    async def _fetchone(self, query: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        async with self._conn() as conn:
            cur = await conn.execute(query, args)
            return await cur.fetchone()

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        """Install the schema once (under an advisory lock), start LISTEN, open the pool."""
        if self._pool is not None:
            return
        conn = await self._connect()
        try:
            await self._install(conn)
            await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            min_size, max_size = self._sizes
            pool: AsyncConnectionPool = AsyncConnectionPool(
                self._conninfo,
                min_size=min_size,
                max_size=max_size,
                open=False,
                timeout=self._pool_timeout,
                kwargs={"autocommit": True},
                name="shopkeeper-sor",
            )
            try:
                await pool.open(wait=True, timeout=self._connect_timeout + 1)
            except (PoolTimeout, psycopg.Error) as exc:
                await pool.close()
                raise self._unavailable(exc) from None
        except BaseException:
            await conn.close()
            raise
        self._pool = pool
        self._listening = True
        self._listener = asyncio.create_task(self._listen(conn), name="sor-pg-listen")

    async def _install(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('shopkeeper-sor-ddl'))")
                if self.schema:
                    name = sql.Identifier(self.schema)
                    await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
                cur = await conn.execute("SELECT to_regclass('shopkeeper_schema') IS NOT NULL")
                row = await cur.fetchone()
                if row and row[0]:
                    cur = await conn.execute("SELECT max(version) FROM shopkeeper_schema")
                    got = await cur.fetchone()
                    if got and got[0] == SCHEMA_VERSION:
                        return
                await conn.execute(POSTGRES_DDL)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None

    async def _listen(self, conn: psycopg.AsyncConnection[Any] | None) -> None:
        """Turn notifications into ``_wake``; reconnect (and wake once) if the connection drops."""
        try:
            while True:
                try:
                    if conn is None:
                        conn = await self._connect()
                        await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                        self._listening = True
                        self._wake.set()  # notifications may have been missed while down
                    async for _ in conn.notifies():
                        self._wake.set()
                except (psycopg.Error, SorUnavailable):
                    pass
                self._listening = False
                if conn is not None:
                    await conn.close()
                    conn = None
                await asyncio.sleep(1.0)
        finally:
            self._listening = False
            if conn is not None:
                await conn.close()

    async def close(self) -> None:
        listener, pool = self._listener, self._pool
        self._listener, self._pool = None, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        if pool is not None:
            await pool.close()

    async def ping(self) -> None:
        await self._fetchone("SELECT 1")

    # -- catalog writes ----------------------------------------------------------------------
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
        return await self._set(tenant, sku, SKU_STOCK, stock_values(stock, _JSONB))

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

    # -- outbox ------------------------------------------------------------------------------
    async def claim_changes(self, limit: int, lease_seconds: float = 30.0) -> list[ChangeRow]:
        """Lease the oldest pending row of up to ``limit`` SKUs, in id order (SKIP LOCKED)."""
        if limit <= 0:
            return []
        query = (
            f"WITH c AS ({CLAIMABLE} LIMIT %s FOR UPDATE OF o SKIP LOCKED) "
            "UPDATE outbox u SET leased_until = clock_timestamp() + make_interval(secs => %s) "
            f"FROM c WHERE u.id = c.id RETURNING {_prefixed('u.', CHANGE_COLS)}"
        )
        rows = await self._fetchall(query, (int(limit), float(max(lease_seconds, 0.0))))
        return sorted((change_from_row(r, identity) for r in rows), key=lambda c: c.id)

    async def ack_changes(self, ids: Sequence[int]) -> None:
        """Mark rows done; wake other waiters if an acked SKU has a next row now claimable."""
        if not ids:
            return
        id_list = [int(i) for i in ids]
        await self._fetchall(
            "WITH u AS (UPDATE outbox SET done = true, processed_at = clock_timestamp(),"
            " leased_until = NULL WHERE NOT done AND id = ANY(%s) RETURNING tenant, sku) "
            f"{NOTIFY} WHERE EXISTS (SELECT 1 FROM u JOIN outbox o ON o.tenant = u.tenant"
            " AND o.sku = u.sku AND NOT o.done AND o.id <> ALL(%s))",
            (id_list, id_list),
        )

    async def release_changes(self, ids: Sequence[int], *, error: str) -> None:
        if not ids:
            return
        await self._fetchall(
            "WITH u AS (UPDATE outbox SET attempts = attempts + 1, last_error = %s,"
            " leased_until = NULL WHERE NOT done AND id = ANY(%s) RETURNING 1) "
            f"{NOTIFY} WHERE EXISTS (SELECT 1 FROM u)",
            (error, [int(i) for i in ids]),
        )

    async def _claimable(self) -> bool:
        return await self._fetchone(f"{CLAIMABLE} LIMIT 1") is not None

    async def wait_for_changes(self, timeout: float) -> None:
        """Return on NOTIFY or when a claimable row exists; poll only if LISTEN is down."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._wake.clear()
        while not await self._claimable():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if not self._listening:
                await asyncio.sleep(min(0.25, remaining))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)
            if self._wake.is_set():
                return

    async def pending_changes(self) -> int:
        row = await self._fetchone("SELECT count(*) FROM outbox WHERE NOT done")
        return int(row[0]) if row else 0

    async def oldest_pending_at(self) -> datetime | None:
        row = await self._fetchone(
            "SELECT committed_at FROM outbox WHERE NOT done ORDER BY id LIMIT 1"
        )
        return None if row is None else as_utc(row[0])

    async def compact_outbox(self) -> int:
        """Delete done rows superseded by a newer row of the same SKU (versions stay intact)."""
        async with self._conn() as conn:
            cur = await conn.execute(
                "DELETE FROM outbox d WHERE d.done AND d.id < (SELECT max(o.id) FROM outbox o"
                " WHERE o.tenant = d.tenant AND o.sku = d.sku)"
            )
            return max(cur.rowcount, 0)

    # -- dead-letter queue -------------------------------------------------------------------
    async def dead_letter(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> int:
        row = await self._fetchone(
            "INSERT INTO dlq (source, event, reason, attempts)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (source, _JSONB(event), reason, int(attempts)),
        )
        assert row is not None
        return int(row[0])

    async def list_dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = await self._fetchall(
            f"SELECT {DLQ_COLS} FROM dlq ORDER BY id LIMIT %s", (int(limit),)
        )
        return [dead_letter_from_row(r, identity) for r in rows]

    async def pop_dead_letters(self, ids: Sequence[int] | None = None) -> list[DeadLetter]:
        if ids is not None and not ids:
            return []
        if ids is None:
            rows = await self._fetchall(f"DELETE FROM dlq RETURNING {DLQ_COLS}")
        else:
            rows = await self._fetchall(
                f"DELETE FROM dlq WHERE id = ANY(%s) RETURNING {DLQ_COLS}", ([int(i) for i in ids],)
            )
        return sorted((dead_letter_from_row(r, identity) for r in rows), key=lambda d: d.id)

    async def count_dead_letters(self) -> int:
        row = await self._fetchone("SELECT count(*) FROM dlq")
        return int(row[0]) if row else 0
