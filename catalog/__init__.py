"""The ground every other package stands on: the catalog's data model and the exception tree.

Imports nothing of ours. ``catalog.sor`` (the system of record) and ``catalog.importers`` (Icecat,
the generic format, the demo catalog) have their own public APIs.
"""

from catalog.errors import (
    CacheUnavailable,
    EmptyQuery,
    Forbidden,
    IndexUnavailable,
    InvalidEvent,
    InvalidInput,
    InvalidProduct,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    ShopkeeperError,
    SorUnavailable,
    Unauthorized,
    UnknownTenant,
)
from catalog.models import CURRENCIES, AttrValue, Availability, Money, Offer, Product, Sku, Stock

__all__ = [
    "CURRENCIES",
    "AttrValue",
    "Availability",
    "CacheUnavailable",
    "EmptyQuery",
    "Forbidden",
    "IndexUnavailable",
    "InvalidEvent",
    "InvalidInput",
    "InvalidProduct",
    "Money",
    "NotFound",
    "Offer",
    "Product",
    "RateLimited",
    "ServiceUnavailable",
    "ShopkeeperError",
    "Sku",
    "SorUnavailable",
    "Stock",
    "Unauthorized",
    "UnknownTenant",
]
