"""Apply a shop's write event (webhook or file) to the system of record.

The SoR's triggers then append outbox rows in the same transaction, and the outbox path brings
the index in step: one route into the index, acked only after a durable write.
"""

from __future__ import annotations

from catalog import InvalidEvent
from catalog.sor import SystemOfRecord
from ingestion.events import ChangeEvent


async def apply_write(sor: SystemOfRecord, event: ChangeEvent) -> None:
    """One SoR write per event; every write is idempotent, so a retried event is harmless.

    Raises ``InvalidEvent`` for a poison event (a price or stock change for an unknown SKU).
    """
    if not event.is_write:
        raise InvalidEvent(f"{event.source} events are notifications, not writes")
    tenant = event.tenant
    if event.op == "upsert":
        await sor.upsert_products([event.product()])
    elif event.op == "delete" and event.entity == "product":
        assert event.product_id is not None  # guaranteed by ChangeEvent validation
        await sor.delete_product(tenant, event.product_id)
    else:
        assert event.sku is not None
        if event.op == "delete":
            await sor.delete_sku(tenant, event.sku)  # deleting a missing SKU is a no-op
        elif event.op == "price":
            if not await sor.set_price(tenant, event.sku, event.price()):
                raise InvalidEvent(f"price event for unknown sku {event.sku!r}")
        elif not await sor.set_stock(tenant, event.sku, event.stock()):
            raise InvalidEvent(f"stock event for unknown sku {event.sku!r}")
