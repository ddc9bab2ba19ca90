"""``DeadLetters`` on PostgreSQL: the ``dlq`` table, with events stored as jsonb."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.sor.base import DeadLetter
from catalog.sor.postgres.database import JSONB, PostgresDatabase
from catalog.sor.schema_rows import DLQ_COLS, dead_letter_from_row, identity


class PostgresDeadLetters(PostgresDatabase):
    """Changes that could not be applied, kept with their reason until replayed."""

    async def dead_letter(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> int:
        row = await self._fetchone(
            "INSERT INTO dlq (source, event, reason, attempts)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (source, JSONB(event), reason, int(attempts)),
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
