"""``ChangeOutbox`` on SQLite: lease, ack and release outbox rows; poll for new ones.

Claims run on the writer thread in ``BEGIN IMMEDIATE``, so two processes never lease the same
row; SQLite has no LISTEN, so ``wait_for_changes`` polls the read connection.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from catalog.sor.base import ChangeRow
from catalog.sor.schema_rows import CHANGE_COLS, as_utc, change_from_row
from catalog.sor.sqlite.database import IDS, NOW, SqliteDatabase

# The oldest pending row of each SKU, unless it is leased: per-SKU order is kept across claimers.
CLAIMABLE = f"""
    SELECT o.id FROM outbox o
    WHERE o.done = 0 AND (o.leased_until IS NULL OR o.leased_until < {NOW})
      AND NOT EXISTS (SELECT 1 FROM outbox p
                      WHERE p.done = 0 AND p.tenant = o.tenant AND p.sku = o.sku AND p.id < o.id)
    ORDER BY o.id LIMIT ?"""


class SqliteOutbox(SqliteDatabase):
    """The outbox of one SQLite file, shared by every process that opens it."""

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
