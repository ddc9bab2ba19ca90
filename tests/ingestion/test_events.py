"""The change-event model and the Debezium mapper, including a cross-check against the real
SQLite triggers: for each kind of UPDATE, the mapper must name the same op the trigger wrote."""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cdc_helpers import product
from pydantic import ValidationError

from catalog.errors import InvalidEvent
from catalog.models import Money, Stock
from catalog.sor.base import ChangeRow
from catalog.sor.schema import SKU_COLS
from catalog.sor.sqlite import SqliteSor
from ingestion.events import (
    MAX_PAYLOAD_BYTES,
    from_change_row,
    from_debezium,
    parse_event,
)

ROW: dict[str, Any] = {
    "tenant": "t1",
    "sku": "S1",
    "product_id": "p1",
    "title": None,
    "model_number": "X-1",
    "ean": "[]",
    "variant_attributes": "{}",
    "image_url": None,
    "url": None,
    "price_amount": "10.00",
    "currency": "USD",
    "stock_qty": 5,
    "availability": "in_stock",
    "warehouses": "{}",
    "stock_synthetic": False,
    "updated_at": 1_700_000_000_000_000,
}
SOURCE = {
    "connector": "postgresql",
    "db": "shop",
    "table": "skus",
    "lsn": 2460,
    "ts_ms": 1_700_000_000_000,
}


def envelope(
    op: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **source: Any,
) -> dict[str, Any]:
    return {
        "before": before,
        "after": after,
        "op": op,
        "ts_ms": 1_700_000_000_500,
        "source": {**SOURCE, **source},
    }


def changed(**cols: Any) -> dict[str, Any]:
    return {**ROW, **cols}


# -- Debezium: c / r / d ------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["c", "r"])
def test_create_and_snapshot_read_map_to_upsert_from_after(op: str) -> None:
    [ev] = from_debezium(envelope(op, after=ROW))
    assert (ev.op, ev.entity, ev.tenant, ev.sku, ev.product_id) == (
        "upsert",
        "sku",
        "t1",
        "S1",
        "p1",
    )
    assert ev.version == 2460 and ev.source == "kafka"
    assert ev.committed_at == datetime.fromtimestamp(1_700_000_000, UTC)  # source.ts_ms, not ts_ms
    assert ev.name == "catalog.sku.upsert"
    assert ev.event_id == "debezium:2460:upsert:t1:S1"


def test_delete_maps_from_before() -> None:
    [ev] = from_debezium(envelope("d", before=ROW, after=None))
    assert (ev.op, ev.sku, ev.tenant) == ("delete", "S1", "t1")


def test_schema_payload_wrapper_is_unwrapped_and_tombstones_are_nothing() -> None:
    wrapped = {
        "schema": {"type": "struct", "name": "shop.public.skus.Envelope"},
        "payload": envelope("c", after=ROW),
    }
    assert from_debezium(wrapped)[0].op == "upsert"
    assert from_debezium({"schema": None, "payload": None}) == []


# -- Debezium: u, by which columns changed --------------------------------------------------------
@pytest.mark.parametrize(
    ("after", "op"),
    [
        (changed(price_amount="12.50"), "price"),
        (changed(currency="EUR"), "price"),
        (changed(stock_qty=0), "stock"),
        (changed(availability="out_of_stock", stock_qty=0), "stock"),
        (changed(warehouses='{"w1": 3}'), "stock"),
        (changed(model_number="X-2"), "upsert"),
        (changed(variant_attributes='{"colour": "red"}'), "upsert"),
        (changed(product_id="p9"), "upsert"),
        (changed(price_amount="9.00", stock_qty=1), "upsert"),  # both: one superset upsert
        (changed(price_amount="9.00", title="New"), "upsert"),
    ],
)
def test_update_op_follows_which_columns_changed(after: dict[str, Any], op: str) -> None:
    [ev] = from_debezium(envelope("u", before=ROW, after=after))
    assert ev.op == op
    assert ev.name == f"catalog.sku.{op}"


def test_price_and_stock_updates_carry_the_new_values() -> None:
    [price] = from_debezium(envelope("u", before=ROW, after=changed(price_amount="12.50")))
    assert price.payload == {"product_id": "p1", "price_amount": "12.50", "currency": "USD"}
    [stock] = from_debezium(envelope("u", before=ROW, after=changed(stock_qty=0)))
    assert stock.payload == {"product_id": "p1", "stock_qty": 0, "availability": "in_stock"}


def test_update_of_only_updated_at_maps_to_nothing() -> None:
    assert from_debezium(envelope("u", before=ROW, after=changed(updated_at=1))) == []


def test_update_without_before_is_a_safe_upsert() -> None:
    """Default REPLICA IDENTITY gives no ``before``: we cannot tell, so re-read everything."""
    [ev] = from_debezium(envelope("u", before=None, after=changed(price_amount="1.00")))
    assert ev.op == "upsert"


def test_update_of_the_key_is_a_delete_plus_an_upsert() -> None:
    old, new = from_debezium(envelope("u", before=ROW, after=changed(sku="S2")))
    assert (old.op, old.sku) == ("delete", "S1")
    assert (new.op, new.sku) == ("upsert", "S2")
    assert old.event_id != new.event_id


def test_lsn_as_string_is_accepted() -> None:
    assert from_debezium(envelope("c", after=ROW, lsn="2461"))[0].version == 2461


# -- Debezium: malformed input ---------------------------------------------------------------------
def _without(path: str) -> dict[str, Any]:
    env = envelope("u", before=ROW, after=changed(price_amount="1.00"))
    node: Any = env
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    del node[last]
    return env


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ("not a dict", "JSON object"),
        ({"op": "x", "after": ROW, "source": SOURCE, "ts_ms": 1}, "not one of c, u, d, r"),
        ({"op": "t", "source": SOURCE, "ts_ms": 1}, "not one of c, u, d, r"),
        (_without("op"), "not one of"),
        (_without("source"), "no 'source'"),
        (_without("source.lsn"), "no 'lsn'"),
        ({**_without("source.ts_ms"), "ts_ms": None}, "no 'ts_ms'"),
        (_without("after"), "needs 'after'"),
        (envelope("d", before=None), "needs 'before'"),
        (envelope("c", after={**ROW, "tenant": None}), "no 'tenant'"),
        (envelope("c", after={k: v for k, v in ROW.items() if k != "sku"}), "no 'sku'"),
        (envelope("c", after=ROW, lsn="abc"), "lsn must be an integer"),
        (envelope("c", after=ROW, lsn=True), "lsn must be an integer"),
        (envelope("c", after=ROW, ts_ms=10**20), "out of range"),
        (envelope("c", after=changed(sku="bad\nsku")), "control characters"),
        (envelope("c", after=changed(sku="x" * 500)), "sku"),
        (envelope("c", after=ROW, lsn=-1), "greater than or equal to 0"),
        ({"schema": {}, "payload": "nope"}, "'payload' must be an object"),
    ],
)
def test_malformed_envelopes_raise_invalid_event_with_a_reason(env: Any, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        from_debezium(env)
    assert reason in info.value.message


def test_missing_ts_ms_falls_back_to_envelope_ts_ms() -> None:
    [ev] = from_debezium(_without("source.ts_ms"))
    assert ev.committed_at == datetime.fromtimestamp(1_700_000_000.5, UTC)


# -- the mapper agrees with the SoR triggers ----------------------------------------------------
def _sku_row(path: Path, sku: str) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            f"SELECT {', '.join(SKU_COLS)} FROM skus WHERE sku = ?", (sku,)
        ).fetchone()
        return dict(zip(SKU_COLS, row, strict=True))
    finally:
        conn.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE skus SET price_amount = '11.00'",
        "UPDATE skus SET stock_qty = 0, availability = 'out_of_stock'",
        "UPDATE skus SET model_number = 'M-2'",
        "UPDATE skus SET price_amount = '3.00', stock_qty = 1",
        "UPDATE skus SET updated_at = '2030-01-01 00:00:00.000'",
    ],
)
async def test_mapper_names_the_same_op_as_the_sqlite_trigger(
    tmp_path: Path, statement: str
) -> None:
    db = tmp_path / "c.db"
    sor = SqliteSor(f"sqlite:///{db}")
    await sor.open()
    try:
        await sor.upsert_products([product(1)])
        before = _sku_row(db, "S1")
        conn = sqlite3.connect(db, isolation_level=None)
        last = conn.execute("SELECT max(id) FROM outbox").fetchone()[0]
        conn.execute(statement + " WHERE sku = 'S1'")
        trigger_ops = [r[0] for r in conn.execute("SELECT op FROM outbox WHERE id > ?", (last,))]
        conn.close()
        after = _sku_row(db, "S1")
        mapped = [e.op for e in from_debezium(envelope("u", before=before, after=after))]
        assert mapped == trigger_ops
    finally:
        await sor.close()


# -- the event model ----------------------------------------------------------------------------
def _write(op: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "e1",
        "tenant": "t1",
        "op": op,
        "sku": "S1",
        "version": 1,
        "committed_at": "2026-01-01T00:00:00Z",
        "source": "webhook",
    }
    return {**base, **kw}


def test_naive_and_offset_times_become_utc() -> None:
    naive = parse_event(_write("delete", committed_at="2026-01-01T00:00:00"))
    assert naive.committed_at.tzinfo is UTC
    shifted = parse_event(
        _write("delete", committed_at=datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    )
    assert shifted.committed_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_write_payloads_are_typed() -> None:
    ev = parse_event(_write("price", payload={"price": {"amount": "9.5", "currency": "eur"}}))
    assert ev.price() == Money(amount=Decimal("9.50"), currency="EUR")
    ev = parse_event(
        _write("stock", payload={"stock": {"quantity": 0, "availability": "out_of_stock"}})
    )
    assert ev.stock() == Stock(quantity=0, availability="out_of_stock")
    ev = parse_event(
        _write(
            "upsert", payload={"product": product(1).model_dump(mode="json", exclude={"tenant"})}
        )
    )
    assert ev.product().tenant == "t1"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_write("price"), "needs payload.price"),
        (_write("price", payload={"price": {"amount": "-1"}}), "greater than or equal to 0"),
        (
            _write("price", payload={"price": {"amount": "1", "currency": "XXX"}}),
            "unknown currency",
        ),
        (_write("price", payload={"price": {"amount": "NaN"}}), "payload.price"),
        (_write("stock", payload={"stock": {"quantity": -3}}), "greater than or equal to 0"),
        (
            _write(
                "upsert",
                payload={"product": {**product(2).model_dump(mode="json"), "tenant": "other"}},
            ),
            "differs from the event's tenant",
        ),
        (
            _write(
                "upsert",
                payload={"product": product(2).model_dump(mode="json", exclude={"tenant"})},
            ),
            "does not list sku 'S1'",
        ),
        (
            _write("price", entity="product", product_id="p1", payload={"price": {"amount": "1"}}),
            "applies to a sku",
        ),
        (_write("delete", sku=None), "needs 'sku'"),
        (_write("delete", entity="product", sku=None), "needs 'product_id'"),
        (_write("delete", sku="a\x00b"), "control characters"),
        (_write("delete", event_id="has space"), "printable ASCII"),
        (_write("delete", tenant=""), "tenant"),
        (_write("delete", version=-1), "greater than or equal to 0"),
        (_write("delete", surprise=1), "Extra inputs are not permitted"),
        (_write("delete", source="carrier-pigeon"), "source"),
        (_write("delete", payload={"x": float("nan")}), "NaN"),
        (_write("delete", payload={"x": "y" * (MAX_PAYLOAD_BYTES + 1)}), "the limit is"),
        (
            _write("delete", payload={"deep": json.loads('{"a":' * 20 + "1" + "}" * 20)}),
            "nests deeper",
        ),
        ("not an object", "JSON object"),
    ],
)
def test_invalid_events_say_why(data: Any, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(data)
    assert reason in info.value.message


def test_notifications_carry_no_typed_payload_and_keep_their_version_space() -> None:
    outbox = parse_event({**_write("price"), "source": "outbox"})  # no payload.price needed
    assert not outbox.is_write and outbox.version_is_sor
    kafka = parse_event({**_write("price"), "source": "kafka"})
    assert not kafka.is_write and not kafka.version_is_sor


def test_events_are_immutable() -> None:
    ev = parse_event(_write("delete"))
    with pytest.raises(ValidationError):
        ev.version = 2  # type: ignore[misc]


def test_outbox_row_maps_to_a_notification_with_its_id_as_version() -> None:
    row = ChangeRow(
        id=42,
        tenant="t1",
        sku="S1",
        op="price",
        version=42,
        committed_at=datetime(2026, 1, 1, tzinfo=UTC),
        attempts=2,
        payload={"product_id": "p1", "price_amount": "1.00", "currency": "USD"},
    )
    ev = from_change_row(row)
    assert (ev.event_id, ev.version, ev.op, ev.product_id, ev.source) == (
        "outbox:42",
        42,
        "price",
        "p1",
        "outbox",
    )
    bad = ChangeRow(
        id=43,
        tenant="t1",
        sku="",
        op="price",
        version=43,
        committed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(InvalidEvent, match="outbox row 43"):
        from_change_row(bad)


def test_round_trip_through_json_is_lossless() -> None:
    ev = from_debezium(envelope("u", before=ROW, after=changed(price_amount="12.50")))[0]
    assert parse_event(json.loads(json.dumps(ev.model_dump(mode="json")))) == ev
    assert copy.deepcopy(ev) == ev
