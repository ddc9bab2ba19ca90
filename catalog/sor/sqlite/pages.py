"""``PageStore`` on SQLite: store page sections, written only when their hash changed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from catalog.pages.model import PageSection, page_key, split_key
from catalog.sor.base import PageWrite
from catalog.sor.page_rows import SELECT_SECTION, page_row, plan_pages, section_from_row
from catalog.sor.schema_pages import PAGE_COLS
from catalog.sor.sqlite.database import SqliteDatabase

_UPSERT = (
    f"INSERT INTO pages ({', '.join(PAGE_COLS)}) VALUES ({', '.join('?' * len(PAGE_COLS))}) "
    "ON CONFLICT (tenant, page_id, anchor) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in PAGE_COLS[3:])
    + ", updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')"
)
_DELETE = "DELETE FROM pages WHERE tenant = ? AND page_id = ? AND anchor = ?"


class SqlitePages(SqliteDatabase):
    """Store pages on SQLite; the triggers of ``schema_pages`` write their outbox rows."""

    async def upsert_pages(
        self, tenant: str, sections: Sequence[PageSection], *, prune: bool = False
    ) -> PageWrite:
        def run(conn: sqlite3.Connection) -> PageWrite:
            stored = {(r[0], r[1]): r[2] for r in conn.execute(
                "SELECT page_id, anchor, content_hash FROM pages WHERE tenant = ?", (tenant,))}
            write, gone, same = plan_pages(stored, sections, prune=prune)
            conn.executemany(_DELETE, [(tenant, p, a) for p, a in gone])
            conn.executemany(_UPSERT, [page_row(tenant, s, int(s.demo)) for s in write])
            return PageWrite(written=len(write), deleted=len(gone), unchanged=same)

        return await self._write(run)

    async def delete_pages(self, tenant: str, page_ids: Sequence[str]) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return int(conn.execute(
                "DELETE FROM pages WHERE tenant = ? AND page_id IN "
                "(SELECT value FROM json_each(?))", (tenant, json.dumps(list(page_ids)))
            ).rowcount)

        return await self._write(run)

    async def get_page_sections(
        self, tenant: str, keys: Sequence[str]
    ) -> dict[str, PageSection]:
        wanted = set(keys)
        pages = sorted({split_key(k)[0] for k in wanted if k.startswith("page:") and "#" in k})
        sql = (f"SELECT {SELECT_SECTION} FROM pages WHERE tenant = ? AND page_id IN "
               "(SELECT value FROM json_each(?))")

        def run(conn: sqlite3.Connection) -> dict[str, PageSection]:
            rows = conn.execute(sql, (tenant, json.dumps(pages)))
            found = (section_from_row(r) for r in rows)
            return {s.key: s for s in found if s.key in wanted}

        return await self._read(run)

    async def list_page_sections(self, tenant: str) -> list[PageSection]:
        sql = (f"SELECT {SELECT_SECTION} FROM pages WHERE tenant = ? "
               "ORDER BY page_id, position, anchor")
        return await self._read(
            lambda c: [section_from_row(r) for r in c.execute(sql, (tenant,))])

    async def page_versions(self, tenant: str) -> dict[str, int]:
        sql = ("SELECT p.page_id, p.anchor, (SELECT max(o.id) FROM outbox o WHERE "
               "o.tenant = p.tenant AND o.sku = 'page:' || p.page_id || '#' || p.anchor) "
               "FROM pages p WHERE p.tenant = ?")
        return await self._read(lambda c: {
            page_key(r[0], r[1]): int(r[2] or 0) for r in c.execute(sql, (tenant,))})
