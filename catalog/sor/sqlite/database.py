"""The SQLite file every SQLite SoR job runs on: two connections, each on its own thread.

One writer connection and one read connection, each owned by its own single-thread executor, so
reads (``get_offers``) never queue behind a bulk load and no connection is shared across threads.
Every write runs in ``BEGIN IMMEDIATE`` so concurrent processes wait on ``busy_timeout`` instead
of failing on a stale snapshot. The job modules (``catalog_store``, ``outbox``, ``dead_letters``)
only call ``_read`` and ``_write``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from catalog.errors import SorUnavailable
from catalog.sor.schema import SCHEMA_VERSION, SQLITE_DDL, sqlite_added_columns

T = TypeVar("T")
SETTING = "SHOPKEEPER_SOR_URL"
# SQL spellings the job modules share: the schema's timestamp form, and a JSON array of ids.
NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
IDS = "(SELECT value FROM json_each(?))"
# sqlite3 error texts that mean "cannot use the database now", not "the SQL is wrong".
_UNAVAILABLE: tuple[str, ...] = ("locked", "busy", "unable to open", "disk", "not a database")
_UNAVAILABLE += ("readonly", "image is malformed", "full", "no such table")


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


def _columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Each existing table's columns, so a migration adds only the ones it lacks."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def connect(path: str, busy_ms: int, *, writer: bool) -> sqlite3.Connection:
    """Open one connection; the writer installs the schema when ``user_version`` is behind."""
    conn = sqlite3.connect(
        path,
        timeout=busy_ms / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if writer:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                added = sqlite_added_columns(_columns(conn))
                try:
                    conn.executescript("BEGIN IMMEDIATE;\n" + added + SQLITE_DDL + "\nCOMMIT;")
                finally:
                    if conn.in_transaction:
                        conn.rollback()
        else:
            conn.execute("PRAGMA query_only = 1")
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteDatabase:
    """The connection pair, its lifecycle, and the two ways a job runs SQL on it."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 10_000, poll_interval: float = 0.015):
        self.url = url
        self.path = sqlite_path(url)
        self._busy_ms = busy_timeout_ms
        self._poll = poll_interval
        self._w: sqlite3.Connection | None = None
        self._r: sqlite3.Connection | None = None
        self._wx: ThreadPoolExecutor | None = None
        self._rx: ThreadPoolExecutor | None = None

    # -- running SQL -------------------------------------------------------------------------
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
        return connect(self.path, self._busy_ms, writer=writer)

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
