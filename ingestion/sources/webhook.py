"""Webhook intake: the request schema of ``POST /v1/catalog/events`` and its batch validation.

The route (in the HTTP app) checks the ingest API key, calls ``parse_batch`` and, when nothing
was rejected, ``await worker.submit(events)``. ``submit`` applies each write to the SoR in order
before returning, so a 202 means "committed to the SoR (or dead-lettered)". The SoR's triggers
write outbox rows in the same transaction and the outbox path updates the index: at-least-once
into the index, idempotent apply, hence exactly-once effect, and nothing accepted is lost in a
crash. A sender that gets no 2xx retries the batch; retried events are idempotent writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from catalog import Money, Product, Stock
from ingestion.events import MAX_VERSION, ChangeEvent, Entity, Op, describe

MAX_BATCH = 1000

_EXAMPLES: list[JsonValue] = [
    {"id": "evt-1001", "op": "price", "sku": "HP-301-BLK", "version": 17,
     "price": {"amount": "24.99", "currency": "USD"}},
    {"id": "evt-1002", "op": "stock", "sku": "HP-301-BLK", "version": 18,
     "stock": {"quantity": 0, "availability": "out_of_stock"}},
    {"id": "evt-1003", "entity": "product", "op": "upsert", "product_id": "hp-301",
     "version": 5, "committed_at": "2026-11-21T10:15:00Z",
     "product": {"product_id": "hp-301", "brand": "HP", "title": "HP 301 Black Ink Cartridge",
                 "category": "Ink cartridges",
                 "skus": [{"sku": "HP-301-BLK", "price": {"amount": "24.99"},
                           "stock": {"quantity": 12}}]}},
    {"id": "evt-1004", "op": "delete", "sku": "HP-301-CLR", "version": 3},
]


class WebhookEvent(BaseModel):
    """One change posted by the shop; ``id`` is its idempotency key, echoed back on accept."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": _EXAMPLES})

    id: str = Field(min_length=1, max_length=128, description="The sender's unique event id")
    entity: Entity = Field("sku", description="'sku' for price/stock/delete of one SKU, "
                           "'product' to upsert or delete a product with all its SKUs")
    op: Op
    tenant: str | None = Field(None, description="Optional; must equal the authenticated tenant")
    sku: str | None = Field(None, max_length=128)
    product_id: str | None = Field(None, max_length=128)
    version: int | None = Field(
        None, ge=0, le=MAX_VERSION,
        description="Per-SKU monotonic version from the sender (a sequence, or updated-at in ms); "
        "the SoR keeps the last applied one per SKU and skips an older event, across restarts "
        "and processes. A product upsert's SKUs may carry their own. Default: committed_at in ms.",
    )
    committed_at: datetime | None = Field(None, description="When the change happened; default now")
    price: Money | None = Field(None, description="For op 'price'")
    stock: Stock | None = Field(None, description="For op 'stock'")
    product: Product | None = Field(None, description="For op 'upsert': the whole product")

    def to_event(
        self, tenant: str, *, source: Literal["webhook", "file"], now: datetime
    ) -> ChangeEvent:
        """The common event; raises ``ValidationError`` or ``ValueError`` with the reason."""
        if self.tenant is not None and self.tenant != tenant:
            raise ValueError("tenant differs from the authenticated tenant")
        payload: dict[str, Any] = {}
        if self.price is not None:
            payload["price"] = self.price.model_dump(mode="json")
        if self.stock is not None:
            payload["stock"] = self.stock.model_dump(mode="json")
        if self.product is not None:
            if "tenant" in self.product.model_fields_set and self.product.tenant != tenant:
                raise ValueError("product.tenant differs from the authenticated tenant")
            payload["product"] = self.product.model_dump(mode="json", exclude={"tenant"})
        committed = self.committed_at or now
        if committed.tzinfo is None:
            committed = committed.replace(tzinfo=UTC)
        product_id = self.product_id
        if product_id is None and self.product is not None:
            product_id = self.product.product_id
        return ChangeEvent(
            event_id=self.id,
            tenant=tenant,
            entity=self.entity,
            op=self.op,
            sku=self.sku,
            product_id=product_id,
            version=self.version if self.version is not None else int(committed.timestamp() * 1000),
            committed_at=committed,
            payload=payload,
            source=source,
        )


@dataclass(frozen=True)
class Rejection:
    """Why one posted event was refused; ``index`` is its position in the posted list."""

    index: int
    event_id: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_item(
    item: Any, *, tenant: str, source: Literal["webhook", "file"] = "webhook",
    now: datetime | None = None,
) -> ChangeEvent:
    """Validate one posted (or replayed) item; raises ``ValueError`` with a one-line reason."""
    if not isinstance(item, dict):
        raise ValueError("each event must be a JSON object")
    try:
        return WebhookEvent.model_validate(item).to_event(
            tenant, source=source, now=now or datetime.now(UTC)
        )
    except ValidationError as exc:
        raise ValueError(describe(exc)) from None


def parse_batch(
    items: list[dict[str, Any]], *, tenant: str, source: Literal["webhook", "file"] = "webhook"
) -> tuple[list[ChangeEvent], list[Rejection]]:
    """Validate a posted batch: every valid event, and a reason for each rejected one.

    The route should accept the batch only when nothing was rejected (all or nothing is
    simpler for senders to retry); duplicate ids within one batch are rejected.
    """
    now = datetime.now(UTC)
    events: list[ChangeEvent] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        raw_id = item.get("id") if isinstance(item, dict) else None
        event_id = raw_id if isinstance(raw_id, str) else None
        if index >= MAX_BATCH:
            reason = f"a batch holds at most {MAX_BATCH} events"
            rejections.append(Rejection(index, event_id, reason))
            continue
        try:
            event = parse_item(item, tenant=tenant, source=source, now=now)
        except ValueError as exc:
            rejections.append(Rejection(index, event_id, str(exc)))
            continue
        if event.event_id in seen:
            rejections.append(Rejection(index, event_id, "duplicate id in this batch"))
            continue
        seen.add(event.event_id)
        events.append(event)
    return events, rejections
