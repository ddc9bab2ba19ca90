"""One interface for the system of record, implemented for SQLite (embedded) and PostgreSQL.

``SystemOfRecord`` combines four narrower protocols, one per job: ``CatalogStore`` (products,
SKUs, price, stock, offers, versions, tenants), ``ChangeOutbox`` (claim, ack, release, wait),
``DeadLetters`` and ``PageStore`` (store page sections: shipping, returns, ...). Each backend
has one module per job (``sqlite/``, ``postgres/``).

Every write goes through database triggers that append a row to ``outbox`` in the same
transaction, so writes made by other programs are captured too. ``outbox.id`` is a global,
monotonic sequence and serves as the per-SKU version of the change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from catalog.models import Money, Offer, Product, Stock
from catalog.pages.model import PageSection

ChangeOp = Literal["upsert", "delete", "price", "stock"]


@dataclass(frozen=True)
class ChangeRow:
    """One outbox row: something changed for (tenant, sku) at ``committed_at``."""

    id: int
    tenant: str
    sku: str
    op: ChangeOp
    version: int
    committed_at: datetime
    attempts: int = 0
    payload: dict[str, Any] = field(default_factory=dict)
    traceparent: str | None = None
    """W3C trace context of the write that made this row (None when it was not traced)."""


@dataclass(frozen=True)
class DeadLetter:
    """A change that could not be applied, kept with its reason for ``shopkeeper dlq``."""

    id: int
    source: str
    event: dict[str, Any]
    reason: str
    attempts: int
    created_at: datetime


@runtime_checkable
class CatalogStore(Protocol):
    """Catalog content and live price/stock; every write is captured in the outbox by triggers."""

    # -- writes: each is one transaction, and the only doors through which we change the catalog
    # ``version`` is the sender's version of the write; the SoR keeps the last applied one per
    # row and refuses older writes (``catalog.sor.versions`` has the rules). A write refused as a
    # whole raises ``StaleVersion``; without a version a write always applies.
    async def upsert_products(
        self, products: Sequence[Product], *, version: int | None = None
    ) -> int:
        """Insert or replace products and their SKUs; SKUs no longer listed are deleted.

        ``Sku.version`` overrides ``version`` per SKU; SKUs the SoR holds newer are kept.
        """

    async def delete_product(
        self, tenant: str, product_id: str, *, version: int | None = None
    ) -> int: ...

    async def delete_sku(self, tenant: str, sku: str, *, version: int | None = None) -> bool:
        """Delete one SKU; with a version it leaves a tombstone so no older upsert revives it."""

    async def set_price(
        self, tenant: str, sku: str, price: Money, *, version: int | None = None
    ) -> bool:
        """True if the SKU exists (changed or already equal); False for an unknown SKU."""

    async def set_stock(
        self, tenant: str, sku: str, stock: Stock, *, version: int | None = None
    ) -> bool: ...

    # -- reads --------------------------------------------------------------------------------
    async def get_offers(self, tenant: str, skus: Sequence[str]) -> dict[str, Offer]:
        """Live price and stock for many SKUs in one round trip; unknown SKUs are absent."""

    async def get_product_by_sku(self, tenant: str, sku: str) -> Product | None:
        """The product that owns ``sku``, with only that SKU in ``skus``."""

    async def iter_products(self, tenant: str) -> AsyncIterator[Product]:
        """Every product of a tenant, SKUs included, in a stable order."""
        yield  # type: ignore[misc]

    async def tenants(self) -> list[str]: ...

    async def sku_versions(self, tenant: str) -> dict[str, int]:
        """Current version (latest outbox id) of every live SKU: the crash test's truth.

        Outbox ids are the SoR's own numbers; the senders' versions the guard compares are
        ``applied_version`` on the rows, a different number space.
        """


@runtime_checkable
class ChangeOutbox(Protocol):
    """The change outbox (change data capture): lease rows, ack or release them, wait for more."""

    async def claim_changes(self, limit: int, lease_seconds: float = 30.0) -> list[ChangeRow]:
        """Lease up to ``limit`` pending rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""

    async def ack_changes(self, ids: Sequence[int]) -> None:
        """Mark rows done; only call after the index write is durable."""

    async def release_changes(self, ids: Sequence[int], *, error: str) -> None:
        """Give leased rows back (attempts + 1) after a failed apply."""

    async def wait_for_changes(self, timeout: float) -> None:
        """Return when new outbox rows may exist (LISTEN/NOTIFY on PostgreSQL, polls on SQLite)."""

    async def pending_changes(self) -> int: ...

    async def oldest_pending_at(self) -> datetime | None: ...


@runtime_checkable
class DeadLetters(Protocol):
    """The dead-letter queue: changes that could not be applied, kept for ``shopkeeper dlq``."""

    async def dead_letter(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> int: ...

    async def list_dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    async def pop_dead_letters(self, ids: Sequence[int] | None = None) -> list[DeadLetter]:
        """Remove and return dead letters (all when ``ids`` is None) so they can be replayed."""

    async def count_dead_letters(self) -> int: ...


@dataclass(frozen=True)
class PageWrite:
    """What one ``upsert_pages`` changed; unchanged sections are not rewritten (no outbox row)."""

    written: int = 0
    deleted: int = 0
    unchanged: int = 0


@runtime_checkable
class PageStore(Protocol):
    """Store page sections; writes go through the same outbox triggers as SKUs
    (key ``page:<page_id>#<anchor>``), so the change worker re-embeds only what changed."""

    async def upsert_pages(
        self, tenant: str, sections: Sequence[PageSection], *, prune: bool = False
    ) -> PageWrite:
        """Write changed sections and drop sections their pages no longer have; ``prune``
        also drops whole pages ``sections`` does not list (the folder is the whole truth)."""

    async def delete_pages(self, tenant: str, page_ids: Sequence[str]) -> int: ...

    async def get_page_sections(
        self, tenant: str, keys: Sequence[str]
    ) -> dict[str, PageSection]:
        """Sections by key (``page:<page_id>#<anchor>``); unknown keys are absent."""

    async def list_page_sections(self, tenant: str) -> list[PageSection]:
        """Every section of a tenant, by page and position."""

    async def page_versions(self, tenant: str) -> dict[str, int]:
        """Latest outbox id of every section key of a tenant (its version, like a SKU's)."""


@runtime_checkable
class SystemOfRecord(CatalogStore, ChangeOutbox, DeadLetters, PageStore, Protocol):
    """Live price/stock and catalog content; async so the agent can await it with a timeout.

    One object does all four jobs on one database, so callers hold a single ``sor``; a
    component that needs only one job can ask for the narrower protocol.
    """

    url: str

    async def open(self) -> None:
        """Create the schema (tables, triggers, indexes) if missing and open connections."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise ``SorUnavailable`` unless the database answers."""


def open_sor(url: str) -> SystemOfRecord:
    """Build the SoR for a URL: ``sqlite:///path.db`` or ``postgresql://...``."""
    match url.split(":", 1)[0]:
        case "sqlite":
            from catalog.sor.sqlite import SqliteSor

            return SqliteSor(url)
        case "postgresql" | "postgres":
            from catalog.sor.postgres import PostgresSor

            return PostgresSor(url)
        case other:
            raise ValueError(
                f"unsupported SHOPKEEPER_SOR_URL scheme {other!r}; use sqlite:/// or postgresql://"
            )
