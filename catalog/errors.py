"""Shopkeeper's exception tree, mapped to HTTP in one place (``app/errors.py``).

ShopkeeperError
├── InvalidInput            bad request data: 400/422
│   ├── InvalidProduct      a catalog record that fails validation (file, line, reason)
│   ├── InvalidEvent        a change event that fails validation (goes to the DLQ)
│   ├── InvalidPage         a store page (Markdown) that cannot be read (file, reason)
│   ├── EmptyQuery
│   └── UnknownTenant       404
├── NotFound                404 (a SKU, a thread)
├── Forbidden               403 (another caller's thread)
├── Unauthorized            401 (missing or bad API key)
├── RateLimited             429 with Retry-After
└── ServiceUnavailable      503: a dependency is down; names the setting to fix
    ├── IndexUnavailable    Qdrant (embedded or server)
    ├── SorUnavailable      the system of record (SQLite/PostgreSQL)
    └── CacheUnavailable    Redis
"""

from __future__ import annotations


class ShopkeeperError(Exception):
    """Base of every error Shopkeeper raises on purpose."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ShopkeeperError):
    """The caller sent something we cannot use; nothing was changed."""

    status_code = 422


class InvalidProduct(InvalidInput):
    """One catalog record is malformed; the rest of the file still loads."""

    def __init__(self, reason: str, *, source: str = "", record: str | int | None = None) -> None:
        where = (
            f"{source}:{record}" if source and record is not None else source or str(record or "")
        )
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.source = source
        self.record = record


class InvalidEvent(InvalidInput):
    """A change event that cannot be applied; the worker dead-letters it."""


class InvalidPage(InvalidInput):
    """A store page file is malformed; the shop owner must fix it (the other pages still load)."""

    def __init__(self, reason: str, *, source: str = "") -> None:
        super().__init__(f"{source}: {reason}" if source else reason)
        self.reason = reason
        self.source = source


class EmptyQuery(InvalidInput):
    """A search or question with no text."""


class UnknownTenant(InvalidInput):
    """The tenant has no catalog here."""

    status_code = 404


class NotFound(ShopkeeperError):
    """The thing asked for does not exist (or is not yours to see)."""

    status_code = 404


class Forbidden(ShopkeeperError):
    """The caller is known but may not see this resource."""

    status_code = 403


class Unauthorized(ShopkeeperError):
    """Missing or wrong API key."""

    status_code = 401


class RateLimited(ShopkeeperError):
    """Too many requests from one client; retry after ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(ShopkeeperError):
    """A dependency cannot be reached; ``setting`` names the knob that points at it."""

    status_code = 503

    def __init__(self, message: str, *, setting: str = "") -> None:
        super().__init__(f"{message} (check {setting})" if setting else message)
        self.setting = setting


class IndexUnavailable(ServiceUnavailable):
    """The vector index (embedded Qdrant or a Qdrant server) cannot be used."""


class SorUnavailable(ServiceUnavailable):
    """The system of record for price and stock cannot be reached in time."""


class CacheUnavailable(ServiceUnavailable):
    """Redis cannot be reached."""
