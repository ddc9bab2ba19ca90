"""``PageStore`` on PostgreSQL: store page sections, written only when their hash changed."""

from __future__ import annotations

from collections.abc import Sequence

from catalog.pages.model import PageSection, page_key, split_key
from catalog.sor.base import PageWrite
from catalog.sor.page_rows import SELECT_SECTION, page_row, plan_pages, section_from_row
from catalog.sor.postgres.database import PostgresDatabase
from catalog.sor.schema_pages import PAGE_COLS

_UPSERT = (
    f"INSERT INTO pages ({', '.join(PAGE_COLS)}) VALUES ({', '.join(['%s'] * len(PAGE_COLS))}) "
    "ON CONFLICT (tenant, page_id, anchor) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in PAGE_COLS[3:])
    + ", updated_at = now()"
)
_DELETE = "DELETE FROM pages WHERE tenant = %s AND page_id = %s AND anchor = %s"


class PostgresPages(PostgresDatabase):
    """Store pages on PostgreSQL; the trigger of ``schema_pages`` writes their outbox rows."""

    async def upsert_pages(
        self, tenant: str, sections: Sequence[PageSection], *, prune: bool = False
    ) -> PageWrite:
        async with self._conn() as conn, conn.transaction():
            # One writer per tenant's pages at a time, so two loads cannot interleave plans.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('pages:' || %s))",
                               (tenant,))
            cur = await conn.execute(
                "SELECT page_id, anchor, content_hash FROM pages WHERE tenant = %s", (tenant,))
            stored = {(r[0], r[1]): r[2] for r in await cur.fetchall()}
            write, gone, same = plan_pages(stored, sections, prune=prune)
            async with conn.cursor() as c:
                if gone:
                    await c.executemany(_DELETE, [(tenant, p, a) for p, a in gone])
                if write:
                    await c.executemany(_UPSERT, [page_row(tenant, s, s.demo) for s in write])
        return PageWrite(written=len(write), deleted=len(gone), unchanged=same)

    async def delete_pages(self, tenant: str, page_ids: Sequence[str]) -> int:
        async with self._conn() as conn:
            cur = await conn.execute(
                "DELETE FROM pages WHERE tenant = %s AND page_id = ANY(%s)",
                (tenant, list(page_ids)))
            return cur.rowcount

    async def get_page_sections(
        self, tenant: str, keys: Sequence[str]
    ) -> dict[str, PageSection]:
        wanted = set(keys)
        pages = sorted({split_key(k)[0] for k in wanted if k.startswith("page:") and "#" in k})
        rows = await self._fetchall(
            f"SELECT {SELECT_SECTION} FROM pages WHERE tenant = %s AND page_id = ANY(%s)",
            (tenant, pages))
        found = (section_from_row(r) for r in rows)
        return {s.key: s for s in found if s.key in wanted}

    async def list_page_sections(self, tenant: str) -> list[PageSection]:
        rows = await self._fetchall(
            f"SELECT {SELECT_SECTION} FROM pages WHERE tenant = %s "
            "ORDER BY page_id, position, anchor", (tenant,))
        return [section_from_row(r) for r in rows]

    async def page_versions(self, tenant: str) -> dict[str, int]:
        rows = await self._fetchall(
            "SELECT p.page_id, p.anchor, (SELECT max(o.id) FROM outbox o WHERE "
            "o.tenant = p.tenant AND o.sku = 'page:' || p.page_id || '#' || p.anchor) "
            "FROM pages p WHERE p.tenant = %s", (tenant,))
        return {page_key(r[0], r[1]): int(r[2] or 0) for r in rows}
