"""What the SoR database holds: tables, indexes and outbox triggers for both backends.

This module is the schema and nothing else: the DDL of SQLite and PostgreSQL side by side so they
cannot drift, the column lists every backend reads and writes in (``PRODUCT_COLS``, ``SKU_COLS``
and the groups the triggers compare), and ``VERSION_OF``, the one SQL definition of a SKU's
version. Turning rows into models is ``schema_rows``; queries live in each backend's job modules.

Outbox rows are written by triggers, never by Python, so plain-SQL writers are captured too.
Rules for an UPDATE of ``skus`` (same for both backends):

* key (tenant, sku) changed          -> 'delete' for the old key and 'upsert' for the new key
* any content column changed         -> 'upsert'
* price *and* stock changed          -> one 'upsert' (a superset; the consumer re-reads the row)
* only price_amount/currency changed -> 'price'
* only stock columns changed         -> 'stock'
* nothing but ``updated_at`` changed -> no row

INSERT -> 'upsert', DELETE -> 'delete'; an UPDATE of a product's content columns -> one 'upsert'
per SKU of that product; DELETE of a product deletes its SKUs (so each gets a 'delete').

The version guard: ``applied_version`` on ``skus`` and ``products`` is the sender's version of
the last versioned write applied to the row (NULL until one is); ``sku_tombstones`` keeps the
version a SKU was deleted at, so a late upsert cannot bring it back. Neither is tracked by the
triggers: moving only a version writes no outbox row.
"""

from __future__ import annotations

# 2: skus.url (the product page), added by ALTER so version-1 databases migrate in place.
# 3: the version guard: skus/products.applied_version and sku_tombstones (same in-place ALTER).
# 4: products.product_type (learned by catalog.product_types), added the same way.
SCHEMA_VERSION = 4
NOTIFY_CHANNEL = "shopkeeper_outbox"
# Columns added after version 2, on every open when missing (no version bump: a database of any
# version migrates in place): (table, column, SQLite type, PostgreSQL type and default).
# outbox.traceparent is the W3C trace context of the write that made the row. PostgreSQL fills
# it from the transaction's TRACEPARENT_SETTING, so the triggers need not know it; SQLite's
# writer stamps the rows of its transaction (sqlite/catalog_store.py).
TRACEPARENT_SETTING = "shopkeeper.traceparent"
ADDED_COLUMNS = (
    ("outbox", "traceparent", "TEXT",
     f"text DEFAULT NULLIF(current_setting('{TRACEPARENT_SETTING}', true), '')"),
)
AVAILABILITIES = ("in_stock", "low_stock", "out_of_stock", "preorder", "discontinued")

PRODUCT_COLS = (
    "tenant",
    "product_id",
    "brand",
    "title",
    "description",
    "category",
    "attributes",
    "released",
    "product_type",
)
PRODUCT_CONTENT = (
    "brand", "title", "description", "category", "attributes", "released", "product_type"
)
SKU_COLS = (
    "tenant",
    "sku",
    "product_id",
    "title",
    "model_number",
    "ean",
    "variant_attributes",
    "image_url",
    "price_amount",
    "currency",
    "stock_qty",
    "availability",
    "warehouses",
    "stock_synthetic",
    "updated_at",
    "url",
)
SKU_CONTENT = (
    "product_id", "title", "model_number", "ean", "variant_attributes", "image_url", "url"
)
SKU_PRICE = ("price_amount", "currency")
SKU_STOCK = ("stock_qty", "availability", "warehouses", "stock_synthetic")
SKU_TRACKED = SKU_CONTENT + SKU_PRICE + SKU_STOCK
# A SKU's version: its latest outbox id (``s`` is the skus row; NULL before any, so COALESCE).
VERSION_OF = "(SELECT max(o.id) FROM outbox o WHERE o.tenant = s.tenant AND o.sku = s.sku)"

_AVAIL = ", ".join(f"'{a}'" for a in AVAILABILITIES)
_OPS = "'upsert', 'delete', 'price', 'stock'"


def _tup(prefix: str, cols: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{prefix}{c}" for c in cols) + ")"


def _differ(cols: tuple[str, ...], ne: str, a: str = "OLD.", b: str = "NEW.") -> str:
    """Null-safe row comparison: SQLite spells it ``IS NOT``, PostgreSQL ``IS DISTINCT FROM``."""
    return f"{_tup(a, cols)} {ne} {_tup(b, cols)}"


# -- SQLite -------------------------------------------------------------------------------------
# Timestamps are UTC text 'YYYY-MM-DD HH:MM:SS.SSS' (sortable); prices are exact decimal text.
_SQ_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _sq_payload(rec: str, extra: tuple[str, ...] = ()) -> str:
    parts = [f"'product_id', {rec}.product_id"] + [f"'{c}', {rec}.{c}" for c in extra]
    return f"json_object({', '.join(parts)})"


def _sq_emit(rec: str, op: str, extra: tuple[str, ...] = ()) -> str:
    return (
        f"INSERT INTO outbox (tenant, sku, op, payload) "
        f"VALUES ({rec}.tenant, {rec}.sku, '{op}', {_sq_payload(rec, extra)});"
    )


_SQ_SAME_KEY = "(OLD.tenant, OLD.sku) IS (NEW.tenant, NEW.sku)"
_SQ_C = _differ(SKU_CONTENT, "IS NOT")
_SQ_P = _differ(SKU_PRICE, "IS NOT")
_SQ_S = _differ(SKU_STOCK, "IS NOT")

SQLITE_DDL = f"""
CREATE TABLE IF NOT EXISTS products (
    tenant      TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    brand       TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category    TEXT,
    attributes  TEXT NOT NULL DEFAULT '{{}}',
    released    TEXT,
    PRIMARY KEY (tenant, product_id)
);
CREATE TABLE IF NOT EXISTS skus (
    tenant             TEXT NOT NULL,
    sku                TEXT NOT NULL,
    product_id         TEXT NOT NULL,
    title              TEXT,
    model_number       TEXT,
    ean                TEXT NOT NULL DEFAULT '[]',
    variant_attributes TEXT NOT NULL DEFAULT '{{}}',
    image_url          TEXT,
    price_amount       TEXT NOT NULL,
    currency           TEXT NOT NULL DEFAULT 'USD',
    stock_qty          INTEGER NOT NULL DEFAULT 0 CHECK (stock_qty >= 0),
    availability       TEXT NOT NULL DEFAULT 'in_stock' CHECK (availability IN ({_AVAIL})),
    warehouses         TEXT NOT NULL DEFAULT '{{}}',
    stock_synthetic    INTEGER NOT NULL DEFAULT 0,
    updated_at         TEXT NOT NULL DEFAULT ({_SQ_NOW}),
    PRIMARY KEY (tenant, sku)
);
-- Columns added since version 1 (the CREATE TABLEs above stay as they were, so one script
-- serves new and old files; the database module skips an ALTER whose column exists).
ALTER TABLE skus ADD COLUMN url TEXT;
ALTER TABLE skus ADD COLUMN applied_version INTEGER;
ALTER TABLE products ADD COLUMN applied_version INTEGER;
CREATE TABLE IF NOT EXISTS sku_tombstones (
    tenant     TEXT NOT NULL,
    sku        TEXT NOT NULL,
    version    INTEGER NOT NULL,
    deleted_at TEXT NOT NULL DEFAULT ({_SQ_NOW}),
    PRIMARY KEY (tenant, sku)
);
ALTER TABLE products ADD COLUMN product_type TEXT;
CREATE INDEX IF NOT EXISTS skus_by_product ON skus (tenant, product_id);
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant       TEXT NOT NULL,
    sku          TEXT NOT NULL,
    op           TEXT NOT NULL CHECK (op IN ({_OPS})),
    committed_at TEXT NOT NULL DEFAULT ({_SQ_NOW}),
    attempts     INTEGER NOT NULL DEFAULT 0,
    leased_until TEXT,
    last_error   TEXT,
    done         INTEGER NOT NULL DEFAULT 0,
    processed_at TEXT,
    payload      TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE done = 0;
CREATE INDEX IF NOT EXISTS outbox_pending_sku ON outbox (tenant, sku, id) WHERE done = 0;
CREATE INDEX IF NOT EXISTS outbox_sku ON outbox (tenant, sku, id);
CREATE TABLE IF NOT EXISTS dlq (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source     TEXT NOT NULL,
    event      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT ({_SQ_NOW})
);

DROP TRIGGER IF EXISTS skus_outbox_insert;
CREATE TRIGGER skus_outbox_insert AFTER INSERT ON skus BEGIN
    {_sq_emit("NEW", "upsert")}
END;
DROP TRIGGER IF EXISTS skus_outbox_delete;
CREATE TRIGGER skus_outbox_delete AFTER DELETE ON skus BEGIN
    {_sq_emit("OLD", "delete")}
END;
DROP TRIGGER IF EXISTS skus_outbox_rekey;
CREATE TRIGGER skus_outbox_rekey AFTER UPDATE ON skus WHEN NOT {_SQ_SAME_KEY} BEGIN
    {_sq_emit("OLD", "delete")}
    {_sq_emit("NEW", "upsert")}
END;
DROP TRIGGER IF EXISTS skus_outbox_upsert;
CREATE TRIGGER skus_outbox_upsert AFTER UPDATE ON skus
WHEN {_SQ_SAME_KEY} AND ({_SQ_C} OR ({_SQ_P} AND {_SQ_S})) BEGIN
    {_sq_emit("NEW", "upsert")}
END;
DROP TRIGGER IF EXISTS skus_outbox_price;
CREATE TRIGGER skus_outbox_price AFTER UPDATE ON skus
WHEN {_SQ_SAME_KEY} AND NOT {_SQ_C} AND {_SQ_P} AND NOT {_SQ_S} BEGIN
    {_sq_emit("NEW", "price", SKU_PRICE)}
END;
DROP TRIGGER IF EXISTS skus_outbox_stock;
CREATE TRIGGER skus_outbox_stock AFTER UPDATE ON skus
WHEN {_SQ_SAME_KEY} AND NOT {_SQ_C} AND NOT {_SQ_P} AND {_SQ_S} BEGIN
    {_sq_emit("NEW", "stock", ("stock_qty", "availability"))}
END;
DROP TRIGGER IF EXISTS products_outbox_update;
CREATE TRIGGER products_outbox_update AFTER UPDATE ON products
WHEN {_differ(PRODUCT_CONTENT, "IS NOT")} BEGIN
    INSERT INTO outbox (tenant, sku, op, payload)
    SELECT tenant, sku, 'upsert', json_object('product_id', product_id)
    FROM skus WHERE tenant = NEW.tenant AND product_id = NEW.product_id ORDER BY sku;
END;
DROP TRIGGER IF EXISTS products_delete_skus;
CREATE TRIGGER products_delete_skus AFTER DELETE ON products BEGIN
    DELETE FROM skus WHERE tenant = OLD.tenant AND product_id = OLD.product_id;
END;
PRAGMA user_version = {SCHEMA_VERSION};
"""

# -- PostgreSQL ---------------------------------------------------------------------------------
# Functions pin search_path at creation so plain-SQL writers with another search_path still hit
# this schema's outbox.


def _pg_payload(rec: str, extra: tuple[str, ...] = ()) -> str:
    parts = [f"'product_id', {rec}.product_id"] + [f"'{c}', {rec}.{c}" for c in extra]
    return f"jsonb_build_object({', '.join(parts)})"


def _pg_emit(rec: str, op: str, extra: tuple[str, ...] = ()) -> str:
    return (
        f"INSERT INTO outbox (tenant, sku, op, payload) "
        f"VALUES ({rec}.tenant, {rec}.sku, '{op}', {_pg_payload(rec, extra)});"
    )


POSTGRES_DDL = f"""
CREATE TABLE IF NOT EXISTS products (
    tenant      text NOT NULL,
    product_id  text NOT NULL,
    brand       text NOT NULL DEFAULT '',
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    category    text,
    attributes  jsonb NOT NULL DEFAULT '{{}}',
    released    text,
    PRIMARY KEY (tenant, product_id)
);
CREATE TABLE IF NOT EXISTS skus (
    tenant             text NOT NULL,
    sku                text NOT NULL,
    product_id         text NOT NULL,
    title              text,
    model_number       text,
    ean                jsonb NOT NULL DEFAULT '[]',
    variant_attributes jsonb NOT NULL DEFAULT '{{}}',
    image_url          text,
    price_amount       numeric(14, 2) NOT NULL CHECK (price_amount >= 0),
    currency           text NOT NULL DEFAULT 'USD',
    stock_qty          integer NOT NULL DEFAULT 0 CHECK (stock_qty >= 0),
    availability       text NOT NULL DEFAULT 'in_stock' CHECK (availability IN ({_AVAIL})),
    warehouses         jsonb NOT NULL DEFAULT '{{}}',
    stock_synthetic    boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, sku)
);
ALTER TABLE skus ADD COLUMN IF NOT EXISTS url text;
ALTER TABLE skus ADD COLUMN IF NOT EXISTS applied_version bigint;
ALTER TABLE products ADD COLUMN IF NOT EXISTS applied_version bigint;
CREATE TABLE IF NOT EXISTS sku_tombstones (
    tenant     text NOT NULL,
    sku        text NOT NULL,
    version    bigint NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, sku)
);
ALTER TABLE products ADD COLUMN IF NOT EXISTS product_type text;
CREATE INDEX IF NOT EXISTS skus_by_product ON skus (tenant, product_id);
CREATE TABLE IF NOT EXISTS outbox (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant       text NOT NULL,
    sku          text NOT NULL,
    op           text NOT NULL CHECK (op IN ({_OPS})),
    committed_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
    attempts     integer NOT NULL DEFAULT 0,
    leased_until timestamptz,
    last_error   text,
    done         boolean NOT NULL DEFAULT false,
    processed_at timestamptz,
    payload      jsonb NOT NULL DEFAULT '{{}}'
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE NOT done;
CREATE INDEX IF NOT EXISTS outbox_pending_sku ON outbox (tenant, sku, id) WHERE NOT done;
CREATE INDEX IF NOT EXISTS outbox_sku ON outbox (tenant, sku, id);
CREATE TABLE IF NOT EXISTS dlq (
    id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    source     text NOT NULL,
    event      jsonb NOT NULL,
    reason     text NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
);
CREATE TABLE IF NOT EXISTS shopkeeper_schema (version integer NOT NULL);

CREATE OR REPLACE FUNCTION shopkeeper_skus_outbox() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    c boolean; p boolean; s boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_emit("NEW", "upsert")}
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        {_pg_emit("OLD", "delete")}
        RETURN NULL;
    ELSIF (OLD.tenant, OLD.sku) IS DISTINCT FROM (NEW.tenant, NEW.sku) THEN
        {_pg_emit("OLD", "delete")}
        {_pg_emit("NEW", "upsert")}
        RETURN NULL;
    END IF;
    c := {_differ(SKU_CONTENT, "IS DISTINCT FROM")};
    p := {_differ(SKU_PRICE, "IS DISTINCT FROM")};
    s := {_differ(SKU_STOCK, "IS DISTINCT FROM")};
    IF c OR (p AND s) THEN
        {_pg_emit("NEW", "upsert")}
    ELSIF p THEN
        INSERT INTO outbox (tenant, sku, op, payload) VALUES (NEW.tenant, NEW.sku, 'price',
            jsonb_build_object('product_id', NEW.product_id,
                               'price_amount', NEW.price_amount::text, 'currency', NEW.currency));
    ELSIF s THEN
        {_pg_emit("NEW", "stock", ("stock_qty", "availability"))}
    END IF;
    RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER skus_outbox AFTER INSERT OR UPDATE OR DELETE ON skus
    FOR EACH ROW EXECUTE FUNCTION shopkeeper_skus_outbox();

CREATE OR REPLACE FUNCTION shopkeeper_products_outbox() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM skus WHERE tenant = OLD.tenant AND product_id = OLD.product_id;
    ELSIF {_differ(PRODUCT_CONTENT, "IS DISTINCT FROM")} THEN
        INSERT INTO outbox (tenant, sku, op, payload)
        SELECT tenant, sku, 'upsert', jsonb_build_object('product_id', product_id)
        FROM skus WHERE tenant = NEW.tenant AND product_id = NEW.product_id ORDER BY sku;
    END IF;
    RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER products_outbox AFTER UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION shopkeeper_products_outbox();

CREATE OR REPLACE FUNCTION shopkeeper_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
    RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION shopkeeper_outbox_notify();

DELETE FROM shopkeeper_schema;
INSERT INTO shopkeeper_schema (version) VALUES ({SCHEMA_VERSION});
"""
