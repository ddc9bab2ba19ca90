"""The one change-event model every source maps into, and the mappers from outbox rows and Debezium.

Two kinds of event share the model:

* **notifications** (``source`` outbox or kafka): "SKU X changed in the SoR". The worker re-reads
  the SKU from the SoR and makes the index equal to it, so the payload is informational only.
* **writes** (``source`` webhook or file): the shop changes its catalog. The payload carries the new
  price, stock or product, is validated here, and the worker applies it to the SoR first.

``version`` is per-SKU monotonic *within its source*: the outbox id for outbox events (the same
number the index stores as ``payload.version``), the WAL LSN for Debezium, and the shop's own
counter (or updated-at in ms) for webhook/file events.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from catalog import InvalidEvent, Money, Product, Stock
from catalog.sor import ChangeRow
from catalog.sor.schema import SKU_CONTENT, SKU_PRICE, SKU_STOCK
from catalog.tracing import valid_traceparent

Entity = Literal["product", "sku"]
Op = Literal["upsert", "delete", "price", "stock"]
Source = Literal["outbox", "webhook", "kafka", "file"]
# What applying one event came to; sources ack every outcome (the DLQ keeps the dead ones).
Outcome = Literal["applied", "skipped_stale", "skipped_unchanged", "dead_lettered"]

SERVICE = "catalog"
WRITE_SOURCES: frozenset[str] = frozenset({"webhook", "file"})
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_PAYLOAD_DEPTH = 12
MAX_VERSION = 2**63 - 1
_ID_CHARS = "printable ASCII without spaces"
_PARTS = {"price": "price", "stock": "stock", "upsert": "product", "delete": "-"}


def _depth(value: Any, level: int = 0) -> int:
    """Nesting depth, stopping early: a hostile payload must not cost more than the limit."""
    if level > MAX_PAYLOAD_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def clean_id(value: str, what: str, limit: int = 128) -> str:
    """Ids are single-line and bounded, so they are safe as keys, log text and partition input."""
    value = value.strip()
    if not value or len(value) > limit:
        raise ValueError(f"{what} must be 1-{limit} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} must not contain control characters")
    return value


class ChangeEvent(BaseModel):
    """One change to one SKU (or product), from any source; immutable once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1, max_length=256)
    tenant: str = Field(min_length=1, max_length=64)
    entity: Entity = "sku"
    op: Op
    sku: str | None = Field(default=None, max_length=128)
    product_id: str | None = Field(default=None, max_length=128)
    version: int = Field(ge=0, le=MAX_VERSION)
    committed_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)
    source: Source
    traceparent: str | None = Field(default=None, max_length=55, pattern=r"^[0-9a-f-]+$")
    """W3C trace context this change continues (the commit's, or its claim's), if traced."""

    @field_validator("event_id")
    @classmethod
    def _event_id_ok(cls, v: str) -> str:
        if any(not (33 <= ord(c) <= 126) for c in v):
            raise ValueError(f"event_id must be {_ID_CHARS}")
        return v

    @field_validator("tenant")
    @classmethod
    def _tenant_ok(cls, v: str) -> str:
        return clean_id(v, "tenant", 64)

    @field_validator("sku", "product_id")
    @classmethod
    def _ids_ok(cls, v: str | None) -> str | None:
        return None if v is None else clean_id(v, "sku/product_id")

    @field_validator("committed_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        """Naive times are taken as UTC (Debezium and SQLite both speak UTC)."""
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    @field_validator("payload")
    @classmethod
    def _bounded_payload(cls, v: dict[str, Any]) -> dict[str, Any]:
        """A hostile payload (huge, deeply nested, NaN) is refused before anything touches it."""
        if _depth(v) > MAX_PAYLOAD_DEPTH:
            raise ValueError(f"payload nests deeper than {MAX_PAYLOAD_DEPTH} levels")
        if not _finite(v):
            raise ValueError("payload contains NaN or Infinity")
        try:
            size = len(json.dumps(v, default=str, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"payload is not JSON-serialisable: {exc}") from None
        if size > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> ChangeEvent:
        """Entity/op/key rules for every event, and a typed payload for writes."""
        if self.entity == "sku" and not self.sku:
            raise ValueError("a sku event needs 'sku'")
        if self.entity == "product":
            if self.op in ("price", "stock"):
                raise ValueError(f"'{self.op}' applies to a sku, not a product")
            if not self.product_id:
                raise ValueError("a product event needs 'product_id'")
        if self.is_write:
            self._check_write_payload()
        return self

    def _check_write_payload(self) -> None:
        try:
            self._check_write_parts()
        except ValidationError as exc:
            raise ValueError(f"payload.{_PARTS[self.op]}: {describe(exc)}") from None

    def _check_write_parts(self) -> None:
        if self.op == "price":
            self.price()
        elif self.op == "stock":
            self.stock()
        elif self.op == "upsert":
            product = self.product()
            if self.entity == "sku" and all(s.sku != self.sku for s in product.skus):
                raise ValueError(f"product {product.product_id!r} does not list sku {self.sku!r}")
            if self.product_id and product.product_id != self.product_id:
                raise ValueError("product_id differs from payload.product.product_id")

    # -- typed views of a write's payload ---------------------------------------------------
    def price(self) -> Money:
        return Money.model_validate(self._part("price"))

    def stock(self) -> Stock:
        return Stock.model_validate(self._part("stock"))

    def product(self) -> Product:
        """The product to upsert, always in this event's tenant."""
        raw = self._part("product")
        if not isinstance(raw, dict):
            raise ValueError("payload.product must be an object")
        if raw.get("tenant", self.tenant) != self.tenant:
            raise ValueError("payload.product.tenant differs from the event's tenant")
        return Product.model_validate({**raw, "tenant": self.tenant})

    def _part(self, key: str) -> Any:
        if key not in self.payload:
            raise ValueError(f"a '{self.op}' event needs payload.{key}")
        return self.payload[key]

    # -- derived ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """``{service}.{entity}.{action}``, e.g. ``catalog.sku.price``."""
        return f"{SERVICE}.{self.entity}.{self.op}"

    @property
    def is_write(self) -> bool:
        """True when the event changes the SoR; false for notifications of SoR changes."""
        return self.source in WRITE_SOURCES

    @property
    def version_is_sor(self) -> bool:
        """Only outbox versions are the SoR's own numbers, comparable with the index's version."""
        return self.source == "outbox"

    @property
    def key(self) -> str:
        """What per-key ordering is kept on: the SKU, or the product for product events."""
        return self.sku if self.entity == "sku" and self.sku else f"product:{self.product_id}"


def parse_event(data: Any) -> ChangeEvent:
    """Validate a dict (a DLQ row, a JSONL line) into an event, or raise ``InvalidEvent``."""
    if not isinstance(data, dict):
        raise InvalidEvent("an event must be a JSON object")
    try:
        return ChangeEvent.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(describe(exc)) from None


def describe(exc: ValidationError, limit: int = 3) -> str:
    """Pydantic errors as one short line: ``loc: message; loc: message``."""
    parts = []
    for e in exc.errors(include_url=False)[:limit]:
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def from_change_row(row: ChangeRow) -> ChangeEvent:
    """An outbox row as a notification; its id is both the event id and the per-SKU version."""
    product_id = row.payload.get("product_id")
    try:
        return ChangeEvent(
            event_id=f"outbox:{row.id}",
            tenant=row.tenant,
            entity="sku",
            op=row.op,
            sku=row.sku,
            product_id=product_id if isinstance(product_id, str) and product_id else None,
            version=row.version,
            committed_at=row.committed_at,
            payload=dict(row.payload),
            source="outbox",
            traceparent=valid_traceparent(row.traceparent),
        )
    except ValidationError as exc:
        raise InvalidEvent(f"outbox row {row.id}: {describe(exc)}") from None


# -- Debezium ---------------------------------------------------------------------------------
_DEBEZIUM_OPS = ("c", "u", "d", "r")


def _unwrap(envelope: Any) -> dict[str, Any] | None:
    """The envelope body with or without the JsonConverter ``schema``/``payload`` wrapper."""
    if not isinstance(envelope, dict):
        raise InvalidEvent("a Debezium envelope must be a JSON object")
    if "payload" in envelope and ("schema" in envelope or "op" not in envelope):
        body = envelope["payload"]
        if body is None:
            return None  # a tombstone after a delete: nothing to do
        if not isinstance(body, dict):
            raise InvalidEvent("Debezium 'payload' must be an object")
        return body
    return envelope


def _row(body: dict[str, Any], side: str) -> dict[str, Any]:
    row = body.get(side)
    if not isinstance(row, dict):
        raise InvalidEvent(f"Debezium op {body.get('op')!r} needs '{side}' as an object")
    for col in ("tenant", "sku"):
        if not isinstance(row.get(col), str) or not row[col]:
            raise InvalidEvent(f"Debezium '{side}' has no {col!r}; is this the skus table?")
    return row


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidEvent(f"Debezium {what} must be an integer")
    try:
        return int(value)
    except ValueError:
        raise InvalidEvent(f"Debezium {what} must be an integer") from None


def _position(body: dict[str, Any]) -> tuple[int, datetime]:
    """(version, committed_at): the WAL LSN and the commit time in the source database."""
    source = body.get("source")
    if not isinstance(source, dict):
        raise InvalidEvent("Debezium envelope has no 'source' block")
    if source.get("lsn") is None:
        raise InvalidEvent("Debezium source has no 'lsn' (a per-SKU version is required)")
    version = _int(source["lsn"], "source.lsn")
    ts = source.get("ts_ms", body.get("ts_ms"))
    if ts is None:
        raise InvalidEvent("Debezium envelope has no 'ts_ms'")
    millis = _int(ts, "ts_ms")
    try:
        return version, datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidEvent(f"Debezium ts_ms {millis} is out of range") from None


def _changed(before: dict[str, Any], after: dict[str, Any], cols: tuple[str, ...]) -> bool:
    """Columns missing from ``before`` (no REPLICA IDENTITY FULL) count as changed."""
    return any(col not in before or before.get(col) != after.get(col) for col in cols)


def _update_op(before: dict[str, Any] | None, after: dict[str, Any]) -> Op | None:
    """The trigger rules of ``catalog.sor.schema``, applied to a before/after pair."""
    if before is None:
        return "upsert"  # default replica identity: we cannot tell what changed
    content = _changed(before, after, SKU_CONTENT)
    price = _changed(before, after, SKU_PRICE)
    stock = _changed(before, after, SKU_STOCK)
    if content or (price and stock):
        return "upsert"
    if price:
        return "price"
    if stock:
        return "stock"
    return None  # only updated_at moved


def _event(
    row: dict[str, Any], op: Op, version: int, committed_at: datetime, extra: tuple[str, ...] = ()
) -> ChangeEvent:
    payload = {c: row[c] for c in ("product_id", *extra) if c in row}
    try:
        return ChangeEvent(
            event_id=f"debezium:{version}:{op}:{row['tenant']}:{row['sku']}",
            tenant=row["tenant"],
            entity="sku",
            op=op,
            sku=row["sku"],
            product_id=row.get("product_id") if isinstance(row.get("product_id"), str) else None,
            version=version,
            committed_at=committed_at,
            payload=payload,
            source="kafka",
        )
    except ValidationError as exc:
        raise InvalidEvent(describe(exc)) from None


def from_debezium(envelope: dict[str, Any]) -> list[ChangeEvent]:
    """Map one Debezium envelope of the ``skus`` table to zero, one or two change events.

    c/r -> upsert from ``after``; d -> delete from ``before``; u -> price, stock or upsert by which
    columns changed (a changed key is a delete of the old key plus an upsert of the new one).
    A tombstone (``payload: null``) maps to nothing. Anything malformed raises ``InvalidEvent``.
    """
    body = _unwrap(envelope)
    if body is None:
        return []
    op = body.get("op")
    if op not in _DEBEZIUM_OPS:
        raise InvalidEvent(f"Debezium op {op!r} is not one of c, u, d, r")
    version, committed_at = _position(body)
    if op in ("c", "r"):
        return [_event(_row(body, "after"), "upsert", version, committed_at)]
    if op == "d":
        return [_event(_row(body, "before"), "delete", version, committed_at)]
    after = _row(body, "after")
    before = body.get("before")
    if before is not None:
        before = _row(body, "before")
        if (before["tenant"], before["sku"]) != (after["tenant"], after["sku"]):
            return [
                _event(before, "delete", version, committed_at),
                _event(after, "upsert", version, committed_at),
            ]
    kind = _update_op(before, after)
    if kind is None:
        return []
    extra = {"price": SKU_PRICE, "stock": ("stock_qty", "availability")}.get(kind, ())
    return [_event(after, kind, version, committed_at, extra)]
