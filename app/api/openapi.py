"""OpenAPI extras shared by routes: the SSE example stream and the error responses."""

from __future__ import annotations

from typing import Any

from app.api.schemas import ErrorOut

SSE_EXAMPLE = """\
event: meta
data: {"thread_id":"5b0c1f9a2e","request_id":"91e2a7c4d0","mode":"shopper","tenant":"demo"}

event: status
data: {"node":"understand","ms":28.4,"intent":"search"}

event: status
data: {"node":"retrieve","ms":41.7,"candidates":6}

event: status
data: {"node":"live_lookup","ms":3.8,"live":"ok","offers":6}

event: status
data: {"node":"decide","ms":2.5,"ranked":3}

event: status
data: {"node":"respond","ms":3.2}

event: products
data: {"products":[{"sku":"3014450","title":"Kensington K72334US mouse RF Wireless Laser",\
"brand":"Kensington","price":"19.95","currency":"USD","price_display":"$19.95",\
"availability":"low_stock","quantity":1,"in_stock":true,"stock_synthetic":true,\
"warehouses":{"east":0,"west":1},"as_of":"2025-01-01T12:00:00Z",\
"why":"it is wireless; its live price is within your $30.00 limit"}],"comparison":null}

event: token
data: {"text":"For wireless mice under $30, "}

event: token
data: {"text":"my top pick is the Kensington K72334US at $19.95, low on stock."}

event: done
data: {"thread_id":"5b0c1f9a2e","request_id":"91e2a7c4d0","text":"For wireless mice \
under $30, my top pick is the Kensington K72334US at $19.95, low on stock.","clarification":false,\
"relaxed":[],"grounded":true,"replaced":false,"live":"ok","comparison":null,"ms":84.1}

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
    "thread_id": "5b0c1f9a2e",
    "request_id": "91e2a7c4d0",
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
