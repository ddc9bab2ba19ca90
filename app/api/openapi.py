"""OpenAPI extras shared by routes: the SSE example stream and the error responses."""

from __future__ import annotations

from typing import Any

from app.api.deps import AGENT_MAX_CHARS
from app.api.schemas import ErrorOut
from app.settings import Settings

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


def _event_schema(types: list[str] | None) -> dict[str, Any]:
    """One parsed SSE message (``event``, ``data``; comment pings carry none)."""
    event: dict[str, Any] = {"type": "string"}
    if types:
        event["enum"] = types
    return {"type": "object", "required": ["data"], "properties": {
        "event": event,
        "data": {"type": "string", "contentMediaType": "application/json",
                 "description": "One JSON object"},
        "id": {"type": "string"}, "retry": {"type": "integer", "minimum": 0},
    }}


OWN_EVENT = _event_schema(["meta", "status", "products", "token", "done", "error"])
PROTOCOL_EVENT = _event_schema(["message"])


SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A `text/event-stream` of `meta`, `status`, `products`, `token`, `done` "
        "(or `error`) events; `: ping` comments every 15 s keep proxies open.",
        "content": {"text/event-stream": {"schema": OWN_EVENT, "example": SSE_EXAMPLE}},
    },
    403: error("The thread belongs to another client"),
    404: error("No such thread, or no catalog for that tenant"),
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


UI_STREAM_EXAMPLE = """\
data: {"type":"start","messageId":"msg-91e2a7c4d0","messageMetadata":\
{"thread_id":"Vx3kS9pQ2mB7tN1c","request_id":"91e2a7c4d0"}}

data: {"type":"start-step"}

data: {"type":"tool-input-available","toolCallId":"call-91e2a7c4d0-1","toolName":"search",\
"input":{"query":"wireless mouse","filters":{"max_price":30.0},"intent":"search"},\
"providerExecuted":true}

data: {"type":"tool-output-available","toolCallId":"call-91e2a7c4d0-1","output":{"candidates":6,\
"skus":["3014450"]},"providerExecuted":true}

data: {"type":"finish-step"}

data: {"type":"data-product","id":"3014450","data":{"sku":"3014450","price":"19.95",\
"currency":"USD","availability":"low_stock","as_of":"2025-01-01T12:00:00Z","url":null}}

data: {"type":"source-document","sourceId":"sor:3014450:price","mediaType":"application/json",\
"title":"Live price of Kensington K72334US (3014450) from the system of record, \
2025-01-01T12:00:00Z"}

data: {"type":"text-start","id":"text-91e2a7c4d0"}

data: {"type":"text-delta","id":"text-91e2a7c4d0","delta":"The Kensington is $19.95."}

data: {"type":"text-end","id":"text-91e2a7c4d0"}

data: {"type":"finish","finishReason":"stop","messageMetadata":{"thread_id":"Vx3kS9pQ2mB7tN1c",\
"grounded":true,"live":"ok"}}

data: [DONE]
"""

AGUI_EXAMPLE = """\
data: {"type":"RUN_STARTED","threadId":"t-1","runId":"r-1"}

data: {"type":"STEP_STARTED","stepName":"understand"}

data: {"type":"STEP_FINISHED","stepName":"understand"}

data: {"type":"TEXT_MESSAGE_START","messageId":"msg-91e2a7c4d0","role":"assistant"}

data: {"type":"TEXT_MESSAGE_CONTENT","messageId":"msg-91e2a7c4d0","delta":"Yes, it is in stock."}

data: {"type":"TEXT_MESSAGE_END","messageId":"msg-91e2a7c4d0"}

data: {"type":"STATE_SNAPSHOT","snapshot":{"thread_id":"t-1","products":[],"evidence":[],\
"trace":[]}}

data: {"type":"RUN_FINISHED","threadId":"t-1","runId":"r-1","result":{"text":"In stock."}}
"""


def _stream(description: str, example: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"text/event-stream": {"schema": PROTOCOL_EVENT, "example": example}}}


UI_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **SSE_RESPONSES,
    200: _stream("AI SDK UI message stream v1 (header `x-vercel-ai-ui-message-stream: v1`), "
                 "ending with `data: [DONE]`.", UI_STREAM_EXAMPLE),
}

AGUI_RESPONSES: dict[int | str, dict[str, Any]] = {
    **SSE_RESPONSES, **KEYED,
    200: _stream("AG-UI events as SSE `data:` lines (never `RAW`).", AGUI_EXAMPLE),
}

JSONRPC_ID: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
JSONRPC_ERROR: dict[str, Any] = {
    "type": "object", "required": ["jsonrpc", "error"], "description": "A JSON-RPC 2.0 error",
    "properties": {"jsonrpc": {"const": "2.0"},
                   "id": {"anyOf": [*JSONRPC_ID["anyOf"], {"type": "null"}]},
                   "error": {"type": "object", "required": ["code", "message"], "properties": {
                       "code": {"type": "integer"}, "message": {"type": "string"}}}},
}
MCP_REQUEST: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "description": "A JSON-RPC 2.0 request or notification (MCP)",
               "required": ["jsonrpc", "method"],
               "properties": {"jsonrpc": {"const": "2.0"}, "id": JSONRPC_ID,
                              # No minLength: the MCP SDK answers any notification (a
                              # message without an id) 202, an empty method included.
                              "method": {"type": "string"},
                              "params": {"type": "object"}}},
    "example": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "search_catalog",
        "arguments": {"catalog": {"query": "wireless mouse",
                                  "filters": {"price": {"max": 3000}}}}}},
}}}}


# -- the finished document ---------------------------------------------------------------------

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_BODY_ERRORS = {
    "400": "The body could not be decoded (not UTF-8)",
    "413": "The body is over the size limit (SHOPKEEPER_MAX_BODY_BYTES)",
    "422": "The body is not valid JSON or fails validation (`details` names each field)",
}
_CLIENT_ID_OUT = {"description": "The caller's client id; minted when the request had none",
                  "schema": {"type": "string"}}
# Request fields that hold one message: limited by SHOPKEEPER_MAX_MESSAGE_CHARS, never blank.
_MESSAGE_FIELDS = {"ChatIn": ["message"], "QueryIn": ["message"], "AssistIn": ["message"],
                   "Turn": ["content"]}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _no_null(param: dict[str, Any]) -> None:
    """An optional header or query value is absent or a string, never null on the wire."""
    branches = param.get("schema", {}).get("anyOf")
    if param.get("in") in ("header", "query") and branches:
        kept = [b for b in branches if b.get("type") != "null"]
        if len(kept) == 1:
            extra = {k: v for k, v in param["schema"].items() if k != "anyOf"}
            param["schema"] = {**kept[0], **extra}


def finish_spec(spec: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """What FastAPI cannot know: the limits this server enforces (from its settings), the
    errors every body route can give, and the client id every shopper route echoes."""
    limit = min(settings.MAX_MESSAGE_CHARS, AGENT_MAX_CHARS)
    schemas = spec.get("components", {}).get("schemas", {})
    for name, fields in _MESSAGE_FIELDS.items():
        for f in fields:
            prop = schemas.get(name, {}).get("properties", {}).get(f)
            if prop is not None:
                prop.update(maxLength=limit, pattern=r"\S")
    history = schemas.get("AssistIn", {}).get("properties", {}).get("history")
    if history is not None:
        history["maxItems"] = settings.MAX_HISTORY_MESSAGES
    for path, item in spec.get("paths", {}).items():
        for op in item.values():
            responses = op.setdefault("responses", {})
            if "requestBody" in op:
                for status, description in _BODY_ERRORS.items():
                    responses.setdefault(status, _error_response(description))
            if path.startswith("/v1/") or path == "/mcp":
                responses.setdefault("429", _error_response("Rate limited; see Retry-After"))
            params = op.get("parameters", [])
            for param in params:
                _no_null(param)
            if any(p.get("in") == "header" and p.get("name") == "X-Client-Id" for p in params):
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.setdefault("headers", {})["X-Client-Id"] = _CLIENT_ID_OUT
    return spec
