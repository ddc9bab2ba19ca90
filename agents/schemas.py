"""What goes into and comes out of the agent: shared by the graph, the HTTP app and the CLI.

Streamed events have fixed types, in this order: ``meta`` first, then ``status`` steps,
``products`` (cards with live price and stock), ``token`` deltas, and ``done`` last
(or ``error`` last instead of ``done``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

AgentMode = Literal["shopper", "assist", "query"]
EventType = Literal["meta", "status", "products", "token", "done", "error"]


class AgentRequest(BaseModel):
    """One turn: a message from ``user_id`` in ``thread_id`` (new thread when None)."""

    message: str = Field(
        min_length=1, max_length=4000, examples=["wireless mouse under $30 in stock"]
    )
    thread_id: str | None = Field(default=None, examples=["b9f1c2d4"])
    user_id: str = Field(default="anonymous", max_length=128)
    tenant: str = Field(default="demo", max_length=64)
    mode: AgentMode = "shopper"
    history: list[dict[str, str]] = Field(
        default_factory=list,
        description="Prior turns [{role, content}] pasted by a support agent (assist mode).",
    )


class ProductCard(BaseModel):
    """A product as shown to the shopper; price and stock come from the live SoR lookup only."""

    sku: str
    title: str
    brand: str = ""
    price: str | None = Field(
        default=None, description="Live price as a decimal string; None if unavailable"
    )
    currency: str | None = None
    price_display: str = Field(description="'$24.99' or 'live price unavailable'")
    availability: str = Field(description="in_stock | low_stock | out_of_stock | unknown ...")
    quantity: int | None = None
    in_stock: bool | None = None
    stock_synthetic: bool = False
    warehouses: dict[str, int] = Field(default_factory=dict)
    as_of: datetime | None = Field(default=None, description="When the live lookup was made")
    why: str = Field(default="", description="Why it matched, in plain words")
    image_url: str | None = Field(default=None, description="The catalog's picture, if any")
    url: str | None = Field(
        default=None,
        description="Product page: the catalog's, else SHOPKEEPER_PRODUCT_URL_TEMPLATE",
    )
    score: float = 0.0


class Citation(BaseModel):
    """A fact in the answer and where it came from."""

    sku: str
    field: Literal["price", "stock", "description", "attribute"]
    source: Literal["sor", "index"]
    as_of: datetime | None = None


class PageSource(BaseModel):
    """A store page section an answer is taken from (shipping, returns, ...), to cite and show."""

    page_id: str = Field(examples=["returns"])
    title: str = Field(description="The page's title", examples=["Returns and refunds"])
    section: str = Field(description="The section's heading", examples=["Return policy"])
    anchor: str = Field(examples=["return-policy"])
    url: str | None = Field(default=None, description="The section's address (page URL#anchor)")
    text: str = Field(default="", description="The section's text, as the page states it")
    demo: bool = Field(default=False, description="True for the bundled demo pages")


class TraceStep(BaseModel):
    node: str
    ms: float
    detail: dict[str, Any] = Field(default_factory=dict)


class Answer(BaseModel):
    """A complete answer: text, cards, citations; assist mode adds evidence and a step trace."""

    thread_id: str
    request_id: str
    text: str
    products: list[ProductCard] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    clarification: bool = False
    relaxed: list[str] = Field(
        default_factory=list, description="Constraints dropped to find results"
    )
    trace: list[TraceStep] = Field(default_factory=list)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    grounded: bool = True
    comparison: dict[str, Any] | None = Field(default=None, description="Side-by-side facts")
    replaced: bool = Field(default=False, description="LLM text failed verification")
    live: str = Field(default="ok", description="ok | unavailable | skipped (no lookup needed)")
    sources: list[PageSource] = Field(
        default_factory=list, description="Store page sections the answer cites (policy answers)"
    )


class AgentEvent(BaseModel):
    type: EventType
    data: dict[str, Any] = Field(default_factory=dict)
