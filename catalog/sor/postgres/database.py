"""The PostgreSQL database every PostgreSQL SoR job runs on: a psycopg 3 async pool and LISTEN.

``open`` installs the schema once (under an advisory lock), opens the pool and keeps one
dedicated connection on ``LISTEN shopkeeper_outbox``; each notification sets ``_wake``, which
``outbox.wait_for_changes`` waits on. The job modules (``catalog_store``, ``outbox``,
``dead_letters``) only use ``_conn``, ``_fetchall`` and ``_fetchone``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from catalog.errors import SorUnavailable
from catalog.sor.schema import ADDED_COLUMNS, NOTIFY_CHANNEL, POSTGRES_DDL, SCHEMA_VERSION
from catalog.sor.schema_pages import POSTGRES_PAGES_DDL

SETTING = "SHOPKEEPER_SOR_URL"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SEARCH_PATH = re.compile(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)")
# A jsonb parameter that also takes Decimal and datetime values (as text), for stock and the DLQ.
JSONB = partial(Jsonb, dumps=partial(json.dumps, default=str))


async def _add_missing_columns(conn: psycopg.AsyncConnection[Any]) -> None:
    """``ADDED_COLUMNS`` the schema lacks; looked up first, so an up-to-date database takes no
    ACCESS EXCLUSIVE lock on open."""
    for table, col, _, pg_type in ADDED_COLUMNS:
        cur = await conn.execute(
            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s"
            " AND NOT attisdropped", (table, col))
        if await cur.fetchone() is None:
            await conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} ").format(
                sql.Identifier(table), sql.Identifier(col)) + sql.SQL(pg_type))  # type: ignore[arg-type]


class PostgresDatabase:
    """Pool, LISTEN connection and lifecycle; ``schema`` isolates the SoR in one schema."""

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

    # -- running SQL -------------------------------------------------------------------------
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
                cur = await conn.execute("SELECT to_regclass('pages') IS NULL")
                if (await cur.fetchone() or (False,))[0]:  # store pages: own DDL, own check
                    await conn.execute(POSTGRES_PAGES_DDL)  # type: ignore[arg-type]
                cur = await conn.execute("SELECT to_regclass('shopkeeper_schema') IS NOT NULL")
                row = await cur.fetchone()
                current = False
                if row and row[0]:
                    cur = await conn.execute("SELECT max(version) FROM shopkeeper_schema")
                    got = await cur.fetchone()
                    current = bool(got and got[0] == SCHEMA_VERSION)
                if not current:
                    await conn.execute(POSTGRES_DDL)  # type: ignore[arg-type]
                await _add_missing_columns(conn)
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
