"""The catalog's data model: products with SKUs (variants), live offers, and their validation."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator

# ISO 4217 codes we accept. A closed list so a typo ("USS") is an error, not a new currency.
CURRENCIES = frozenset(
    {
        *("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "JPY", "CHF", "SEK", "NOK", "DKK"),
        *("PLN", "CZK", "HUF", "INR", "CNY", "HKD", "SGD", "KRW", "BRL", "MXN", "ZAR"),
    }
)

# ISO 4217 exponents of the currencies above that are not 2 (a yen has no minor unit).
MINOR_DIGITS = {"JPY": 0, "KRW": 0}
# The fields a product-page template may name (SHOPKEEPER_PRODUCT_URL_TEMPLATE).
URL_FIELDS = frozenset({"sku", "product_id"})

Availability = Literal["in_stock", "low_stock", "out_of_stock", "preorder", "discontinued"]
AttrValue = str | float | int | bool


class Money(BaseModel):
    """An amount in a currency; Decimal so that 19.99 stays 19.99."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2, examples=["29.99"])
    currency: str = Field(default="USD", examples=["USD"])

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, v: str) -> str:
        code = v.strip().upper()
        if code not in CURRENCIES:
            raise ValueError(f"unknown currency {v!r}")
        return code

    def __str__(self) -> str:
        symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(self.currency)
        return f"{symbol}{self.amount:,.2f}" if symbol else f"{self.amount:,.2f} {self.currency}"


class Stock(BaseModel):
    """Stock of one SKU; ``synthetic`` marks demo stock that no warehouse ever counted."""

    model_config = ConfigDict(frozen=True)

    quantity: int = Field(ge=0)
    availability: Availability = "in_stock"
    warehouses: dict[str, int] = Field(default_factory=dict)
    synthetic: bool = False

    @property
    def in_stock(self) -> bool:
        return self.quantity > 0 and self.availability in ("in_stock", "low_stock")


class Sku(BaseModel):
    """One sellable variant: its own id, codes, variant attributes, price and stock."""

    sku: str = Field(min_length=1, max_length=128)
    title: str | None = None
    model_number: str | None = None
    ean: list[str] = Field(default_factory=list)
    variant_attributes: dict[str, str] = Field(default_factory=dict)
    price: Money
    stock: Stock
    image_url: str | None = None
    url: str | None = Field(
        default=None, max_length=2048, examples=["https://shop.example/p/M1-BLK"],
        description="The SKU's product page: absolute http(s) or root-relative (/p/M1-BLK)",
    )
    version: int | None = Field(
        default=None, ge=0, le=2**63 - 1, examples=[17],
        description="Write-side only: the sender's version of this SKU in a product upsert "
        "(default: the event's version); the SoR refuses it when it holds a newer one. "
        "Reads leave it empty.",
    )

    @field_validator("url")
    @classmethod
    def _page_url(cls, v: str | None) -> str | None:
        # Shown as a link to shoppers: a javascript: or data: URL would run in their browser.
        v = (v or "").strip()
        if not v:
            return None
        if not (v.startswith(("https://", "http://")) or (v.startswith("/") and v[1:2] != "/")):
            raise ValueError("url must be an http(s) URL or a path starting with /")
        return v

    @field_validator("sku")
    @classmethod
    def _clean_sku(cls, v: str) -> str:
        v = v.strip()
        if not v or any(c in v for c in "\x00\n\r\t"):
            raise ValueError("SKU must be a non-empty single-line string")
        return v


class Product(BaseModel):
    """A product as the shop sells it: shared text and attributes, one or more SKUs."""

    tenant: str = Field(default="demo", min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=128)
    brand: str = ""
    title: str = Field(min_length=1)
    description: str = ""
    category: str | None = None
    product_type: str | None = Field(
        default=None, max_length=120, examples=["toner cartridge"],
        description="What the product is (its head noun phrase), learned from the catalog",
    )
    attributes: dict[str, AttrValue] = Field(default_factory=dict)
    skus: list[Sku] = Field(min_length=1)
    released: str | None = None

    def sku_title(self, sku: Sku) -> str:
        return sku.title or self.title


class Offer(BaseModel):
    """Live price and stock of one SKU, read from the system of record for one answer."""

    sku: str
    price: Money | None
    stock: Stock | None
    as_of: datetime = Field(default_factory=lambda: datetime.now(UTC))
    version: int = 0

    @property
    def in_stock(self) -> bool:
        return self.stock is not None and self.stock.in_stock


def minor_units(amount: Decimal, currency: str) -> int:
    """19.99 USD -> 1999: amounts in the currency's minor unit, as UCP and payment APIs want."""
    exponent = MINOR_DIGITS.get(currency, 2)
    return int((amount * 10**exponent).to_integral_value(ROUND_HALF_EVEN))


def major_units(units: int, currency: str) -> Decimal:
    """1999 USD -> 19.99: the inverse of ``minor_units``."""
    return Decimal(units).scaleb(-MINOR_DIGITS.get(currency, 2))


def check_url_template(template: str) -> str:
    """Refuse a product-page template that names anything but ``{sku}`` and ``{product_id}``."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    unknown = names - URL_FIELDS
    if unknown or "" in names:
        raise ValueError("the template may use only {sku} and {product_id}, "
                         f"not {sorted(unknown)}")
    return template


def page_url(template: str, *, sku: str, product_id: str) -> str | None:
    """The product page from a shop's template (``https://shop.example/p/{sku}``), or None."""
    if not template:
        return None
    return template.format(sku=quote(sku, safe=""), product_id=quote(product_id, safe=""))


def utcnow() -> datetime:
    return datetime.now(UTC)


def jsonable(obj: BaseModel) -> dict[str, Any]:
    """Dump a model to JSON-safe primitives (Decimal as str)."""
    return obj.model_dump(mode="json")
