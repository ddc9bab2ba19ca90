"""OpenAPI extras shared by routes: the SSE example stream and the error responses."""

from __future__ import annotations

from typing import Any

from app.api.schemas import ErrorOut

SSE_EXAMPLE = """\
event: meta
data: {"thread_id":"t-5b0c1f","request_id":"r-91e2a7"}

event: status
data: {"step":"retrieve"}

event: products
data: {"products":[{"sku":"910-005620","title":"Logitech M185 Wireless Mouse","price":"19.99",\
"currency":"USD","price_display":"$19.99","availability":"in_stock","quantity":42,\
"stock_synthetic":true,"as_of":"2025-01-01T12:00:00Z"}]}

event: token
data: {"delta":"The Logitech M185 is "}

event: token
data: {"delta":"$19.99 and in stock."}

event: done
data: {"thread_id":"t-5b0c1f","request_id":"r-91e2a7","text":"The Logitech M185 is $19.99 \
and in stock.","citations":[{"sku":"910-005620","field":"price","source":"sor"}]}

: ping
"""


def error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A `text/event-stream` of `meta`, `status`, `products`, `token`, `done` "
        "(or `error`) events; `: ping` comments every 15 s keep proxies open.",
        "content": {"text/event-stream": {"schema": {"type": "string"}, "example": SSE_EXAMPLE}},
    },
    403: error("The thread belongs to another client"),
    404: error("No such thread or tenant"),
    422: error("Message too long, history too long or malformed body"),
    429: error("Rate limited; see Retry-After"),
}

KEYED: dict[int | str, dict[str, Any]] = {
    401: error("Missing or unknown API key"),
    403: error("The key is valid but for the other scope"),
}

ANSWER_EXAMPLE: dict[str, Any] = {
    "thread_id": "t-5b0c1f",
    "request_id": "r-91e2a7",
    "text": "The Logitech M185 is $19.99 and in stock.",
    "products": [{
        "sku": "910-005620", "title": "Logitech M185 Wireless Mouse", "brand": "Logitech",
        "price": "19.99", "currency": "USD", "price_display": "$19.99",
        "availability": "in_stock", "quantity": 42, "in_stock": True, "stock_synthetic": True,
        "warehouses": {"east": 30, "west": 12}, "as_of": "2025-01-01T12:00:00Z",
        "why": "wireless mouse, in stock", "score": 0.83,
    }],
    "citations": [
        {"sku": "910-005620", "field": "price", "source": "sor", "as_of": "2025-01-01T12:00:00Z"},
    ],
    "clarification": False,
    "relaxed": [],
    "grounded": True,
}
