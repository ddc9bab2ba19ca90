"""The live lookup: one batched SoR call for all candidate SKUs, bounded in time and retried.

Price is never cached: every answer reads it from the system of record. With Redis (server
mode) the last stock read is kept for a few seconds, and is used only when the SoR fails, so
a slow or down SoR still yields a stock figure no older than the TTL, and never a price.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from agents.state import LiveOffer, LiveStatus
from catalog import Offer
from catalog.sor import SystemOfRecord
from catalog.tracing import NO_TRACER, Tracer

log = logging.getLogger(__name__)


def to_live(offer: Offer) -> LiveOffer:
    """The JSON-safe shape of an SoR offer, as the state and the cards carry it."""
    price, stock = offer.price, offer.stock
    return LiveOffer(
        sku=offer.sku,
        price=str(price.amount) if price else None,
        currency=price.currency if price else None,
        display=str(price) if price else None,
        quantity=stock.quantity if stock else None,
        availability=stock.availability if stock else "unknown",
        in_stock=stock.in_stock if stock else None,
        warehouses=dict(stock.warehouses) if stock else {},
        synthetic=bool(stock and stock.synthetic),
        as_of=offer.as_of.isoformat(),
    )


@dataclass(frozen=True)
class LiveResult:
    """What one lookup returned; ``status`` is "unavailable" when the SoR did not answer in time."""

    offers: dict[str, LiveOffer]
    status: LiveStatus
    error: str = ""


class StockCache:
    """Short-TTL copies of stock in Redis, written after each SoR read, read only on SoR failure."""

    def __init__(self, redis: Any, *, ttl_s: float, read_timeout_s: float = 0.05) -> None:
        self.redis = redis
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.read_timeout_s = read_timeout_s
        self._pending: set[asyncio.Task[None]] = set()

    @staticmethod
    def key(tenant: str, sku: str) -> str:
        return f"shopkeeper:stock:{tenant}:{sku}"

    def remember(self, tenant: str, offers: dict[str, LiveOffer]) -> None:
        """Write in the background: the answer never waits for Redis."""
        task = asyncio.create_task(self._write(tenant, offers))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, tenant: str, offers: dict[str, LiveOffer]) -> None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            for sku, o in offers.items():
                stock = {"quantity": o["quantity"], "availability": o["availability"],
                         "in_stock": o["in_stock"], "warehouses": o["warehouses"],
                         "synthetic": o["synthetic"], "as_of": o["as_of"]}
                pipe.set(self.key(tenant, sku), json.dumps(stock), px=self.ttl_ms)
            await pipe.execute()
        except Exception as exc:  # the cache is optional; an answer never fails because of it
            log.warning("stock cache write failed: %s", exc)

    async def recall(self, tenant: str, skus: Sequence[str]) -> dict[str, LiveOffer]:
        """Cached stock (price always None) for the SKUs still within the TTL."""
        try:
            async with asyncio.timeout(self.read_timeout_s):
                raw = await self.redis.mget([self.key(tenant, s) for s in skus])
        except Exception as exc:
            log.warning("stock cache read failed: %s", exc)
            return {}
        out: dict[str, LiveOffer] = {}
        for sku, value in zip(skus, raw, strict=True):
            if value:
                d = json.loads(value)
                out[sku] = LiveOffer(
                    sku=sku, price=None, currency=None, display=None, quantity=d["quantity"],
                    availability=d["availability"], in_stock=d["in_stock"],
                    warehouses=d["warehouses"], synthetic=d["synthetic"], as_of=d["as_of"],
                )
        return out

    async def aclose(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.redis.aclose()


@dataclass
class LiveLookup:
    """Batched, time-bounded reads of live price and stock; built once, shared by every answer."""

    sor: SystemOfRecord
    timeout_s: float = 0.5
    retries: int = 1
    backoff_s: float = 0.02
    cache: StockCache | None = None
    tracer: Tracer = NO_TRACER
    failures: int = field(default=0, init=False)

    async def fetch(self, tenant: str, skus: Sequence[str]) -> LiveResult:
        """One ``get_offers`` call for every SKU; SKUs the SoR no longer has are absent."""
        unique = list(dict.fromkeys(skus))
        if not unique:
            return LiveResult({}, "ok")
        with self.tracer.start_as_current_span(
            "sor get_offers", kind=SpanKind.CLIENT,
            attributes={"db.operation.name": "get_offers", "shopkeeper.skus": len(unique)},
        ) as span:
            result = await self._fetch(tenant, unique)
            span.set_attribute("shopkeeper.live.status", result.status)
            span.set_attribute("shopkeeper.offers", len(result.offers))
            if result.status != "ok":
                span.set_status(Status(StatusCode.ERROR, "system of record unavailable"))
            return result

    async def _fetch(self, tenant: str, unique: list[str]) -> LiveResult:
        error = ""
        for attempt in range(self.retries + 1):
            try:
                async with asyncio.timeout(self.timeout_s):
                    offers = await self.sor.get_offers(tenant, unique)
            except TimeoutError:
                error = f"the system of record did not answer within {self.timeout_s:g}s"
            except Exception as exc:  # any backend error means "no live data", never a crash
                error = f"the system of record failed: {exc.__class__.__name__}: {exc}"
            else:
                live = {sku: to_live(o) for sku, o in offers.items()}
                if self.cache is not None and live:
                    self.cache.remember(tenant, live)
                return LiveResult(live, "ok")
            if attempt < self.retries:
                await asyncio.sleep(self.backoff_s * 2**attempt)
        self.failures += 1
        log.warning("live lookup unavailable for %d SKUs: %s", len(unique), error)
        cached = await self.cache.recall(tenant, unique) if self.cache is not None else {}
        return LiveResult(cached, "unavailable", error)

