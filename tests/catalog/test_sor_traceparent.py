"""The outbox row carries the W3C traceparent of the write that made it (both backends)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from opentelemetry.sdk.trace import TracerProvider

from catalog.models import Money
from catalog.sor.base import SystemOfRecord
from catalog.sor.sqlite import SqliteSor
from tests.catalog.sor_support import drain, last_id, product, raw, twin

pytestmark = pytest.mark.asyncio


async def test_a_write_inside_a_span_stamps_its_outbox_rows_and_one_outside_does_not(
    sor: SystemOfRecord,
) -> None:
    tracer = TracerProvider().get_tracer("test")  # its own provider: no global state
    await sor.upsert_products([product("P1")])
    await drain(sor)
    before = last_id(sor)
    with tracer.start_as_current_span("commit") as span:
        assert await sor.set_price("demo", "P1-A", Money(amount=Decimal("7.00")))
        await sor.upsert_products([product("P1", title="Trail shoe v2")])
    ctx = span.get_span_context()
    expected = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"
    rows = raw(sor, f"SELECT op, traceparent FROM outbox WHERE id > {before} ORDER BY id")
    assert {"price", "upsert"} <= {r[0] for r in rows}
    assert {r[1] for r in rows} == {expected}

    claimed = await sor.claim_changes(10)
    assert {c.traceparent for c in claimed} == {expected}
    await sor.ack_changes([c.id for c in claimed])
    await drain(sor)

    mark = last_id(sor)
    await sor.set_price("demo", "P1-A", Money(amount=Decimal("8.00")))  # no span active
    assert raw(sor, f"SELECT traceparent FROM outbox WHERE id > {mark}") == [(None,)]
    (row,) = await sor.claim_changes(10)
    assert row.traceparent is None


async def test_plain_sql_writers_still_write_outbox_rows_without_a_trace(
    sor: SystemOfRecord,
) -> None:
    await sor.upsert_products([product("P2")])
    await drain(sor)
    mark = last_id(sor)
    raw(sor, "UPDATE skus SET stock_qty = 1 WHERE sku = 'P2-A'")
    assert raw(sor, f"SELECT op, traceparent FROM outbox WHERE id > {mark}") == [("stock", None)]


async def test_a_database_without_the_column_gains_it_on_open(sor: SystemOfRecord) -> None:
    """An outbox from before tracing: the next open adds ``traceparent``, rows are kept."""
    await sor.upsert_products([product("P3")])
    raw(sor, "ALTER TABLE outbox DROP COLUMN traceparent")
    other = await twin(sor)
    try:
        names = (
            [r[1] for r in raw(sor, "PRAGMA table_info(outbox)")] if isinstance(sor, SqliteSor)
            else [r[0] for r in raw(sor, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'outbox' AND table_schema = "
                                         "current_schema()")])
        assert "traceparent" in names
        rows = await other.claim_changes(10)
        assert {r.sku for r in rows} == {"P3-A", "P3-B"}
        assert all(r.traceparent is None for r in rows)
    finally:
        await other.close()
