"""Graph updates -> the six agent events (meta, status, products, token, done, error), in one place.

The service only runs the graph; every event's shape, and the one error-to-event mapping that
the HTTP stream reuses after its 200, are written here.
"""

from __future__ import annotations

import re
from typing import Any

from agents.rules.evidence import evidence
from agents.schemas import (
    AgentEvent,
    AgentMode,
    Answer,
    Citation,
    PageSource,
    ProductCard,
    TraceStep,
)
from catalog import ShopkeeperError

_WORDS = re.compile(r"\S+\s*")
WORDS_PER_TOKEN = 3
STATUS_SKUS = 50  # SKUs a retrieve status names: every candidate at the default limit of 30


def meta(thread_id: str, request_id: str, mode: AgentMode, tenant: str) -> AgentEvent:
    """The first event, sent before the graph starts: which thread and request this is."""
    return AgentEvent(type="meta", data={"thread_id": thread_id, "request_id": request_id,
                                         "mode": mode, "tenant": tenant})


def status(node: str, ms: float, update: dict[str, Any]) -> AgentEvent:
    """One finished node, with a small summary of what it produced."""
    detail: dict[str, Any] = {}
    if "candidates" in update and node == "retrieve":
        detail["candidates"] = len(update["candidates"])
        detail["skus"] = [c["sku"] for c in update["candidates"][:STATUS_SKUS]]
    if "live" in update and node == "live_lookup":
        detail["live"] = update["live"]
        detail["offers"] = len(update.get("offers", {}))
    if node == "decide":
        detail["ranked"] = len(update.get("ranked", []))
        if update.get("relaxed"):
            detail["relaxed"] = update["relaxed"]
    if node == "verify":
        detail["replaced"] = update.get("replaced", False)
    if node == "pages":
        detail["sources"] = [f"{s['page_id']}#{s['anchor']}" for s in update.get("sources", [])]
    if node == "understand":
        detail["intent"] = update.get("intent")
        detail["query"] = update.get("query", "")
        detail["filters"] = {k: v for k, v in (update.get("constraints") or {}).items()
                             if v is not None and v is not False and v not in ([], "relevance")}
    return AgentEvent(type="status", data={"node": node, "ms": round(ms, 2), **detail})


def products(values: dict[str, Any]) -> AgentEvent:
    """The cards (live price and stock) and any comparison, once ``respond`` has run."""
    return AgentEvent(type="products", data={"products": values["cards"],
                                             "comparison": values.get("comparison")})


def done(values: dict[str, Any], trace: list[dict[str, Any]], *, thread_id: str,
         request_id: str, mode: AgentMode, ms: float) -> AgentEvent:
    """The last event: the final text and how it was reached (assist adds trace and evidence)."""
    data: dict[str, Any] = {
        "thread_id": thread_id, "request_id": request_id, "text": values.get("final", ""),
        "clarification": bool(values.get("clarify")), "relaxed": values.get("relaxed", []),
        "grounded": not values.get("llm_text") or bool(values.get("replaced")),
        "replaced": bool(values.get("replaced")), "live": values.get("live", "skipped"),
        "comparison": values.get("comparison"), "ms": round(ms, 2),
        "sources": values.get("sources", []),
    }
    if mode == "assist":
        data["trace"] = [{"node": t["node"], "ms": t["ms"],
                          "detail": {k: v for k, v in t.items() if k not in ("node", "ms")}}
                         for t in trace]
        data["evidence"] = evidence(values)
    return AgentEvent(type="done", data=data)


def tokens(text: str) -> list[AgentEvent]:
    """The answer as a few words per token event, so the widget can render it as it arrives."""
    words = _WORDS.findall(text)
    return [AgentEvent(type="token", data={"text": "".join(words[i : i + WORDS_PER_TOKEN])})
            for i in range(0, len(words), WORDS_PER_TOKEN)]


def error(exc: BaseException) -> AgentEvent:
    """Our errors keep their message and HTTP status; anything else becomes a generic error.

    The only error-to-event mapping: the agent's stream and the HTTP stream (after its 200) both
    end with this event."""
    if isinstance(exc, ShopkeeperError):
        return AgentEvent(type="error", data={"error": type(exc).__name__, "message": exc.message,
                                              "status": exc.status_code})
    return AgentEvent(type="error", data={"error": "InternalError", "status": 500,
                                          "message": "the agent failed; the error was logged"})


def citations(cards: list[ProductCard]) -> list[Citation]:
    """Each live figure on a card comes from the SoR at the card's lookup time."""
    out = []
    for c in cards:
        if c.price is not None:
            out.append(Citation(sku=c.sku, field="price", source="sor", as_of=c.as_of))
        if c.quantity is not None:
            out.append(Citation(sku=c.sku, field="stock", source="sor", as_of=c.as_of))
    return out


def to_answer(events: list[AgentEvent]) -> Answer:
    """Fold a finished event stream into one ``Answer``."""
    meta = next(e.data for e in events if e.type == "meta")
    done = next(e.data for e in events if e.type == "done")
    products: list[dict[str, Any]] = next(
        (e.data["products"] for e in events if e.type == "products"), [])
    cards = [ProductCard.model_validate(p) for p in products]
    return Answer(
        thread_id=meta["thread_id"], request_id=meta["request_id"], text=done["text"],
        products=cards, citations=citations(cards), clarification=done["clarification"],
        relaxed=done["relaxed"], trace=[TraceStep.model_validate(t) for t in done.get("trace", [])],
        evidence=done.get("evidence", []), grounded=done["grounded"],
        comparison=done.get("comparison"), replaced=done["replaced"], live=done["live"],
        sources=[PageSource.model_validate(s) for s in done.get("sources", [])],
    )
