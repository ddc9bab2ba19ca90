"""``parse_batch``: what the webhook accepts, and the reason it gives for each event it rejects."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from cdc_helpers import product

from ingestion.sources.webhook import MAX_BATCH, WebhookEvent, parse_batch

PRODUCT = product(1, skus=2).model_dump(mode="json", exclude={"tenant"})


def test_the_documented_examples_are_accepted() -> None:
    examples = WebhookEvent.model_json_schema()["examples"]
    events, rejections = parse_batch(examples, tenant="shop-1")
    assert rejections == []
    assert [e.event_id for e in events] == [x["id"] for x in examples]
    assert {e.tenant for e in events} == {"shop-1"}
    assert all(e.source == "webhook" and e.is_write for e in events)


def test_accepted_events_are_typed_and_versioned() -> None:
    items: list[dict[str, Any]] = [
        {"id": "a", "op": "price", "sku": "S1-0", "version": 7,
         "price": {"amount": "12.5", "currency": "eur"}},
        {"id": "b", "op": "stock", "sku": "S1-0", "stock": {"quantity": 2}},
        {"id": "c", "entity": "product", "op": "upsert", "product": PRODUCT},
        {"id": "d", "entity": "sku", "op": "upsert", "sku": "S1-1", "product": PRODUCT},
        {"id": "e", "entity": "product", "op": "delete", "product_id": "p1"},
        {"id": "f", "op": "delete", "sku": "S1-1", "committed_at": "2026-01-01T00:00:00Z"},
    ]
    events, rejections = parse_batch(items, tenant="t1")
    assert rejections == []
    price, stock, prod, sku_upsert, prod_delete, sku_delete = events
    assert price.version == 7 and price.price().amount == Decimal("12.50")
    assert price.price().currency == "EUR" and price.name == "catalog.sku.price"
    assert stock.stock().quantity == 2 and stock.version > 0  # default: committed_at in ms
    assert prod.product_id == "p1" and prod.product().tenant == "t1"
    assert sku_upsert.sku == "S1-1"
    assert prod_delete.name == "catalog.product.delete"
    assert sku_delete.version == 1767225600000  # 2026-01-01T00:00:00Z in ms


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"id": "x", "op": "price", "sku": "S1"}, "needs payload.price"),
        ({"id": "x", "op": "price", "sku": "S1", "price": {"amount": "-2"}},
         "price.amount: Input should be greater than or equal to 0"),
        ({"id": "x", "op": "price", "sku": "S1", "price": {"amount": "1.999"}},
         "decimal places"),
        ({"id": "x", "op": "price", "sku": "S1", "price": {"amount": "1", "currency": "ZZZ"}},
         "unknown currency"),
        ({"id": "x", "op": "stock", "sku": "S1", "stock": {"quantity": 1, "availability": "maybe"}},
         "stock.availability"),
        ({"id": "x", "op": "price", "price": {"amount": "1"}}, "a sku event needs 'sku'"),
        ({"id": "x", "entity": "product", "op": "stock", "product_id": "p",
          "stock": {"quantity": 1}}, "'stock' applies to a sku"),
        ({"id": "x", "entity": "product", "op": "delete"}, "needs 'product_id'"),
        ({"id": "x", "op": "upsert", "sku": "nope", "product": PRODUCT}, "does not list sku"),
        ({"id": "x", "entity": "product", "op": "upsert", "product": {"title": "no id"}},
         "product.product_id: Field required"),
        ({"id": "x", "entity": "product", "op": "upsert", "product_id": "other",
          "product": PRODUCT}, "product_id differs"),
        ({"id": "x", "entity": "product", "op": "upsert",
          "product": {**PRODUCT, "tenant": "someone-else"}}, "product.tenant differs"),
        ({"id": "x", "op": "delete", "sku": "S1", "tenant": "someone-else"},
         "differs from the authenticated tenant"),
        ({"id": "x", "op": "teleport", "sku": "S1"}, "op: Input should be"),
        ({"id": "x", "op": "delete", "sku": "S1", "drop_table": True}, "Extra inputs"),
        ({"id": "x", "op": "delete", "sku": "S1\r\nX-Injected: 1"}, "control characters"),
        ({"id": "x", "op": "delete", "sku": "S" * 129}, "at most 128"),
        ({"id": "bad id", "op": "delete", "sku": "S1"}, "printable ASCII"),
        ({"id": "", "op": "delete", "sku": "S1"}, "id: String should have at least 1"),
        ({"op": "delete", "sku": "S1"}, "id: Field required"),
        ({"id": "x", "op": "delete", "sku": "S1", "version": -5}, "greater than or equal to 0"),
        ({"id": "x", "op": "delete", "sku": "S1", "version": 2**64}, "less than or equal to"),
        ({"id": "x", "op": "delete", "sku": "S1", "committed_at": "yesterday"}, "committed_at"),
        ({"id": "x", "entity": "product", "op": "upsert",
          "product": {**PRODUCT, "description": "x" * 70_000}}, "the limit is"),
    ],
)
def test_rejections_give_a_reason(item: dict[str, Any], reason: str) -> None:
    events, rejections = parse_batch([item], tenant="t1")
    assert events == []
    [rejection] = rejections
    assert rejection.index == 0
    assert rejection.event_id == item.get("id")
    assert reason in rejection.reason, rejection.reason


def test_a_mixed_batch_reports_each_bad_event_by_position() -> None:
    items: list[Any] = [
        {"id": "ok-1", "op": "delete", "sku": "S1"},
        "not an object",
        {"id": "ok-2", "op": "stock", "sku": "S1", "stock": {"quantity": 0}},
        {"id": "ok-1", "op": "delete", "sku": "S2"},
        {"id": 17, "op": "delete", "sku": "S3"},
    ]
    events, rejections = parse_batch(items, tenant="t1")
    assert [e.event_id for e in events] == ["ok-1", "ok-2"]
    assert [(r.index, r.event_id) for r in rejections] == [(1, None), (3, "ok-1"), (4, None)]
    assert rejections[0].reason == "each event must be a JSON object"
    assert rejections[1].reason == "duplicate id in this batch"
    assert "id: Input should be a valid string" in rejections[2].reason
    assert rejections[0].as_dict() == {"index": 1, "event_id": None, "reason": rejections[0].reason}


def test_oversized_batches_reject_the_excess() -> None:
    items = [{"id": f"e{i}", "op": "delete", "sku": f"S{i}"} for i in range(MAX_BATCH + 2)]
    events, rejections = parse_batch(items, tenant="t1")
    assert len(events) == MAX_BATCH
    assert [r.index for r in rejections] == [MAX_BATCH, MAX_BATCH + 1]
    assert "at most" in rejections[0].reason


def test_json_schema_documents_the_item_for_openapi() -> None:
    schema = WebhookEvent.model_json_schema()
    assert {"id", "op", "sku", "version", "price", "stock", "product"} <= set(schema["properties"])
    assert schema["required"] == ["id", "op"]
    assert len(schema["examples"]) >= 3
