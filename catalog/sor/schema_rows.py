"""Mapping between catalog models and SoR rows, shared by the SQLite and PostgreSQL backends.

Pure functions, no database access: models to row tuples for writes (``product_row``,
``sku_row``, ``stock_values``), rows back to models for reads (``sku_from_row``,
``product_from_rows``, ``offers_from_json``, ``change_from_row``, ``dead_letter_from_row``), and
the value rules both backends share (two-decimal prices, canonical JSON, UTC timestamps). Each
backend passes its own ``dump``/``load`` for JSON columns (text on SQLite, jsonb on PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from catalog.models import Money, Offer, Product, Sku, Stock
from catalog.sor.base import ChangeOp, ChangeRow, DeadLetter
from catalog.sor.schema import PRODUCT_COLS, SKU_COLS

Dump = Callable[[Any], Any]
Load = Callable[[Any], Any]
CENT = Decimal("0.01")


def canonical_json(value: Any) -> str:
    """Deterministic JSON text so SQLite's text comparison sees equal values as unchanged."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def identity(value: Any) -> Any:
    """PostgreSQL's ``dump``/``load``: psycopg already converts jsonb and numeric both ways."""
    return value


def price_amount(amount: Decimal) -> Decimal:
    """Two decimals always, so 19.9 and 19.90 are the same stored value (no spurious change)."""
    return amount.quantize(CENT)


def product_row(p: Product, dump: Dump) -> tuple[Any, ...]:
    return (
        p.tenant,
        p.product_id,
        p.brand,
        p.title,
        p.description,
        p.category,
        dump(p.attributes),
        p.released,
        p.product_type,
    )


def sku_row(
    tenant: str,
    product_id: str,
    s: Sku,
    dump: Dump,
    amount: Callable[[Decimal], Any],
    now: Any,
) -> tuple[Any, ...]:
    return (
        tenant,
        s.sku,
        product_id,
        s.title,
        s.model_number,
        dump(s.ean),
        dump(s.variant_attributes),
        s.image_url,
        amount(price_amount(s.price.amount)),
        s.price.currency,
        s.stock.quantity,
        s.stock.availability,
        dump(s.stock.warehouses),
        s.stock.synthetic,
        now,
        s.url,
    )


def stock_values(stock: Stock, dump: Dump) -> tuple[Any, ...]:
    return (stock.quantity, stock.availability, dump(stock.warehouses), stock.synthetic)


_OFFERS = TypeAdapter(list[Offer])


def offers_from_json(texts: Sequence[str]) -> dict[str, Offer]:
    """Validate all offers in one pydantic-core call (~10x cheaper than building models per row).

    If another program wrote a malformed price or stock, only that part becomes None.
    """
    try:
        offers = _OFFERS.validate_json("[" + ",".join(texts) + "]")
    except ValidationError:
        offers = [_lenient_offer(json.loads(t)) for t in texts]
    return {o.sku: o for o in offers}


def _lenient_offer(d: dict[str, Any]) -> Offer:
    try:
        price: Money | None = Money(**d["price"])
    except ValidationError:
        price = None
    try:
        stock: Stock | None = Stock(**d["stock"])
    except ValidationError:
        stock = None
    return Offer(sku=d["sku"], price=price, stock=stock, as_of=d["as_of"], version=d["version"])


def sku_from_row(row: Sequence[Any], load: Load) -> Sku:
    r = dict(zip(SKU_COLS, row, strict=True))
    return Sku(
        sku=r["sku"],
        title=r["title"],
        model_number=r["model_number"],
        ean=load(r["ean"]) or [],
        variant_attributes=load(r["variant_attributes"]) or {},
        price=Money(amount=Decimal(str(r["price_amount"])), currency=r["currency"]),
        stock=Stock(
            quantity=r["stock_qty"],
            availability=r["availability"],
            warehouses=load(r["warehouses"]) or {},
            synthetic=bool(r["stock_synthetic"]),
        ),
        image_url=r["image_url"],
        url=r["url"],
    )


def product_from_rows(prow: Sequence[Any], skus: list[Sku], load: Load) -> Product:
    r = dict(zip(PRODUCT_COLS, prow, strict=True))
    return Product(
        tenant=r["tenant"],
        product_id=r["product_id"],
        brand=r["brand"],
        title=r["title"],
        description=r["description"],
        category=r["category"],
        attributes=load(r["attributes"]) or {},
        skus=skus,
        released=r["released"],
        product_type=r["product_type"],
    )


def as_utc(value: Any) -> datetime:
    """SQLite gives naive UTC text, PostgreSQL an aware datetime in the session time zone."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


# Outbox and DLQ columns selected, in the order the builders below read them.
CHANGE_COLS = "id, tenant, sku, op, committed_at, attempts, payload, traceparent"
DLQ_COLS = "id, source, event, reason, attempts, created_at"


def change_from_row(row: Sequence[Any], load: Load) -> ChangeRow:
    id_, tenant, sku, op, committed_at, attempts, payload, traceparent = row
    op_: ChangeOp = op
    return ChangeRow(
        id=int(id_),
        tenant=tenant,
        sku=sku,
        op=op_,
        version=int(id_),
        committed_at=as_utc(committed_at),
        attempts=int(attempts),
        payload=load(payload) or {},
        traceparent=traceparent or None,
    )


def dead_letter_from_row(row: Sequence[Any], load: Load) -> DeadLetter:
    id_, source, event, reason, attempts, created_at = row
    return DeadLetter(
        id=int(id_),
        source=source,
        event=load(event),
        reason=reason,
        attempts=int(attempts),
        created_at=as_utc(created_at),
    )
