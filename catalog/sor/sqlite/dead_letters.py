"""``DeadLetters`` on SQLite: the ``dlq`` table, with events stored as JSON text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from catalog.sor.base import DeadLetter
from catalog.sor.schema_rows import DLQ_COLS, dead_letter_from_row
from catalog.sor.sqlite.database import IDS, SqliteDatabase


class SqliteDeadLetters(SqliteDatabase):
    """Changes that could not be applied, kept with their reason until replayed."""

    async def dead_letter(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> int:
        sql = "INSERT INTO dlq (source, event, reason, attempts) VALUES (?, ?, ?, ?) RETURNING id"
        args = (source, json.dumps(event, default=str), reason, int(attempts))
        return await self._write(lambda c: int(c.execute(sql, args).fetchone()[0]))

    async def list_dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        sql = f"SELECT {DLQ_COLS} FROM dlq ORDER BY id LIMIT ?"
        rows = await self._read(lambda c: c.execute(sql, (int(limit),)).fetchall())
        return [dead_letter_from_row(r, json.loads) for r in rows]

    async def pop_dead_letters(self, ids: Sequence[int] | None = None) -> list[DeadLetter]:
        if ids is not None and not ids:
            return []
        where = "" if ids is None else f" WHERE id IN {IDS}"
        sql = f"DELETE FROM dlq{where} RETURNING {DLQ_COLS}"
        args = () if ids is None else (json.dumps([int(i) for i in ids]),)
        rows = await self._write(lambda c: c.execute(sql, args).fetchall())
        return sorted((dead_letter_from_row(r, json.loads) for r in rows), key=lambda d: d.id)

    async def count_dead_letters(self) -> int:
        return await self._read(lambda c: int(c.execute("SELECT count(*) FROM dlq").fetchone()[0]))
