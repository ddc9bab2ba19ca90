"""The agent's events as the Vercel AI SDK's UI message stream (protocol v1, ``useChat``).

meta -> ``start``; each graph step (``status``) -> ``start-step`` … ``finish-step``, the retrieval
and the live lookup inside their steps as tool parts (``search``, ``live_offers``: input, then
output); ``products`` -> one ``data-product`` part per card (live price, availability, ``as_of``,
``image_url``, ``url``; the card's SKU is the part id) plus a ``data-comparison`` part, and one
``source-document`` per citation; tokens -> ``text-start`` / ``text-delta``…; done ->
``text-end``, one ``source-url`` per cited store page section (``source-document`` when the page
has no URL), ``finish`` (thread and grounding facts as message metadata); error -> ``error``.
Every stream ends with ``data: [DONE]``. Translation only: no decision is taken here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sse_starlette import ServerSentEvent

from agents import AgentEvent, ProductCard, citations
from app.api.protocols import StepTools

HEADERS = {"x-vercel-ai-ui-message-stream": "v1"}


def part(payload: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(payload, separators=(",", ":"), ensure_ascii=False,
                                           default=str))


class UIMessageStream:
    """One answer as UI message parts; keeps the ids and what earlier steps said."""

    def __init__(self, message_id: str | None = None) -> None:
        self.message_id = message_id
        self.text_id = ""
        self.text_open = False
        self.request_id = ""
        self.tools = StepTools()
        self.calls = 0

    def events(self, event: AgentEvent) -> Sequence[ServerSentEvent]:
        d = event.data
        match event.type:
            case "meta":
                self.request_id = d["request_id"]
                self.text_id = f"text-{self.request_id}"
                return [part({"type": "start",
                              "messageId": self.message_id or f"msg-{self.request_id}",
                              "messageMetadata": {"thread_id": d["thread_id"],
                                                  "request_id": d["request_id"]}})]
            case "status":
                return self._step(d)
            case "products":
                return self._products(d)
            case "token":
                opened = [] if self.text_open else [part({"type": "text-start",
                                                          "id": self.text_id})]
                self.text_open = True
                return [*opened, part({"type": "text-delta", "id": self.text_id,
                                       "delta": d["text"]})]
            case "done":
                closing = [part({"type": "text-end", "id": self.text_id})] if self.text_open else []
                self.text_open = False
                meta = {k: d.get(k) for k in ("thread_id", "request_id", "grounded", "live",
                                              "relaxed", "clarification", "replaced")}
                return [*closing, *_page_sources(d.get("sources", [])),
                        part({"type": "finish", "finishReason": "stop",
                              "messageMetadata": meta})]
            case "error":
                return [part({"type": "error", "errorText": d.get("message", "error")})]
        return []

    def close(self) -> Sequence[ServerSentEvent]:
        return [ServerSentEvent(data="[DONE]")]

    def _step(self, d: dict[str, Any]) -> list[ServerSentEvent]:
        out = [part({"type": "start-step"})]
        shown = self.tools.call(d)
        if shown:
            tool, given, detail = shown
            self.calls += 1
            call_id = f"call-{self.request_id}-{self.calls}"
            out += [part({"type": "tool-input-available", "toolCallId": call_id,
                          "toolName": tool, "input": given, "providerExecuted": True}),
                    part({"type": "tool-output-available", "toolCallId": call_id,
                          "output": detail, "providerExecuted": True})]
        return [*out, part({"type": "finish-step"})]

    def _products(self, d: dict[str, Any]) -> list[ServerSentEvent]:
        cards = [ProductCard.model_validate(c) for c in d.get("products", [])]
        out = [part({"type": "data-product", "id": c.sku, "data": c.model_dump(mode="json")})
               for c in cards]
        if d.get("comparison"):
            out.append(part({"type": "data-comparison", "id": "comparison",
                             "data": d["comparison"]}))
        by_sku = {c.sku: c for c in cards}
        for cite in citations(cards):
            when = cite.as_of.isoformat() if cite.as_of else "now"
            out.append(part({
                "type": "source-document", "sourceId": f"sor:{cite.sku}:{cite.field}",
                "mediaType": "application/json",
                "title": f"Live {cite.field} of {by_sku[cite.sku].title} ({cite.sku}) from the "
                         f"system of record, {when}",
            }))
        return out


def _page_sources(sources: list[dict[str, Any]]) -> list[ServerSentEvent]:
    """Each store page section the answer cites, as the AI SDK's source parts."""
    out = []
    for src in sources:
        source_id = f"page:{src['page_id']}#{src['anchor']}"
        title = f"{src['title']}: {src['section']}"
        if src.get("url"):
            out.append(part({"type": "source-url", "sourceId": source_id, "url": src["url"],
                             "title": title}))
        else:
            out.append(part({"type": "source-document", "sourceId": source_id,
                             "mediaType": "text/markdown", "title": title,
                             "filename": f"{src['page_id']}.md"}))
    return out
