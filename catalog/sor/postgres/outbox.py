"""``ChangeOutbox`` on PostgreSQL: many workers share one outbox through ``SKIP LOCKED``.

A statement trigger on ``outbox`` sends ``pg_notify('shopkeeper_outbox')``; the LISTEN
connection of ``database`` turns it into ``_wake``, so ``wait_for_changes`` polls only while
LISTEN is down. Acks and releases notify too when they make another row claimable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime

from catalog.sor.base import ChangeRow
from catalog.sor.postgres.database import PostgresDatabase
from catalog.sor.schema import NOTIFY_CHANNEL
from catalog.sor.schema_rows import CHANGE_COLS, as_utc, change_from_row, identity

# The oldest pending row of each SKU, unless it is leased: per-SKU order is kept across claimers.
CLAIMABLE = """
    SELECT o.id FROM outbox o
    WHERE NOT o.done AND (o.leased_until IS NULL OR o.leased_until < clock_timestamp())
      AND NOT EXISTS (SELECT 1 FROM outbox p
                      WHERE NOT p.done AND p.tenant = o.tenant AND p.sku = o.sku AND p.id < o.id)
    ORDER BY o.id"""
NOTIFY = f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"


def _prefixed(prefix: str, cols: str) -> str:
    return ", ".join(prefix + c for c in cols.split(", "))


class PostgresOutbox(PostgresDatabase):
    """The outbox of one PostgreSQL schema, shared by every worker process."""

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
