"""The ``pages`` table (store page sections) and its outbox triggers, for both backends.

Kept apart from ``schema.py`` and installed on its own (when the table is missing), so the SKU
schema's version is not touched. A section is keyed in the outbox as ``page:<page_id>#<anchor>``
(``catalog.pages.page_key``) in the ``sku`` column, so page changes travel the same change path
as SKUs: INSERT -> 'upsert', DELETE -> 'delete', an UPDATE whose ``content_hash`` changed ->
'upsert' (a changed key: 'delete' of the old one and 'upsert' of the new one).
"""

from __future__ import annotations

PAGE_COLS = (
    "tenant", "page_id", "anchor", "page_title", "section", "text", "url", "position", "demo",
    "content_hash",
)
PAGE_KEY_SQL = "'page:' || {rec}.page_id || '#' || {rec}.anchor"


def _emit(rec: str, op: str, json_fn: str) -> str:
    key = PAGE_KEY_SQL.format(rec=rec)
    payload = f"{json_fn}('kind', 'page', 'page_id', {rec}.page_id, 'anchor', {rec}.anchor)"
    return (f"INSERT INTO outbox (tenant, sku, op, payload) "
            f"VALUES ({rec}.tenant, {key}, '{op}', {payload});")


_SQ_SAME = "(OLD.tenant, OLD.page_id, OLD.anchor) IS (NEW.tenant, NEW.page_id, NEW.anchor)"

SQLITE_PAGES_DDL = f"""
CREATE TABLE IF NOT EXISTS pages (
    tenant       TEXT NOT NULL,
    page_id      TEXT NOT NULL,
    anchor       TEXT NOT NULL,
    page_title   TEXT NOT NULL,
    section      TEXT NOT NULL,
    text         TEXT NOT NULL,
    url          TEXT,
    position     INTEGER NOT NULL DEFAULT 0,
    demo         INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    PRIMARY KEY (tenant, page_id, anchor)
);
DROP TRIGGER IF EXISTS pages_outbox_insert;
CREATE TRIGGER pages_outbox_insert AFTER INSERT ON pages BEGIN
    {_emit("NEW", "upsert", "json_object")}
END;
DROP TRIGGER IF EXISTS pages_outbox_delete;
CREATE TRIGGER pages_outbox_delete AFTER DELETE ON pages BEGIN
    {_emit("OLD", "delete", "json_object")}
END;
DROP TRIGGER IF EXISTS pages_outbox_rekey;
CREATE TRIGGER pages_outbox_rekey AFTER UPDATE ON pages WHEN NOT {_SQ_SAME} BEGIN
    {_emit("OLD", "delete", "json_object")}
    {_emit("NEW", "upsert", "json_object")}
END;
DROP TRIGGER IF EXISTS pages_outbox_update;
CREATE TRIGGER pages_outbox_update AFTER UPDATE ON pages
WHEN {_SQ_SAME} AND OLD.content_hash IS NOT NEW.content_hash BEGIN
    {_emit("NEW", "upsert", "json_object")}
END;
"""

POSTGRES_PAGES_DDL = f"""
CREATE TABLE IF NOT EXISTS pages (
    tenant       text NOT NULL,
    page_id      text NOT NULL,
    anchor       text NOT NULL,
    page_title   text NOT NULL,
    section      text NOT NULL,
    text         text NOT NULL,
    url          text,
    position     integer NOT NULL DEFAULT 0,
    demo         boolean NOT NULL DEFAULT false,
    content_hash text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, page_id, anchor)
);
CREATE OR REPLACE FUNCTION shopkeeper_pages_outbox() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_emit("NEW", "upsert", "jsonb_build_object")}
    ELSIF TG_OP = 'DELETE' THEN
        {_emit("OLD", "delete", "jsonb_build_object")}
    ELSIF (OLD.tenant, OLD.page_id, OLD.anchor) IS DISTINCT FROM
          (NEW.tenant, NEW.page_id, NEW.anchor) THEN
        {_emit("OLD", "delete", "jsonb_build_object")}
        {_emit("NEW", "upsert", "jsonb_build_object")}
    ELSIF OLD.content_hash IS DISTINCT FROM NEW.content_hash THEN
        {_emit("NEW", "upsert", "jsonb_build_object")}
    END IF;
    RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER pages_outbox AFTER INSERT OR UPDATE OR DELETE ON pages
    FOR EACH ROW EXECUTE FUNCTION shopkeeper_pages_outbox();
"""
