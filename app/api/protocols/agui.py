"""The agent's events as AG-UI events, built with ``ag-ui-protocol``'s types and encoder.

meta -> ``RUN_STARTED``; each graph step (``status``) -> ``STEP_STARTED`` … ``STEP_FINISHED``,
with the retrieval and the live lookup inside as ``TOOL_CALL_START/ARGS/END/RESULT``
(``search``, ``live_offers``); tokens -> ``TEXT_MESSAGE_START/CONTENT``; done ->
``TEXT_MESSAGE_END``, a ``STATE_SNAPSHOT`` (cards, evidence with live price and per-warehouse
stock, the step trace) and ``RUN_FINISHED``; error -> ``RUN_ERROR``. ``RAW`` events are never
sent: they would expose prompts and internal state. Translation only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ag_ui.core import (
    BaseEvent,
    RunErrorEvent,
    RunFinishedEvent,
    RunStartedEvent,
    StateSnapshotEvent,
    StepFinishedEvent,
    StepStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from ag_ui.encoder import EventEncoder

from agents import AgentEvent
from app.api.protocols import StepTools

_SNAPSHOT_KEYS = ("text", "live", "grounded", "replaced", "relaxed", "clarification",
                  "comparison", "evidence", "trace")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class AgUiEvents:
    """One run as AG-UI events; keeps the run's ids, its cards and what earlier steps said."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.encoder = EventEncoder()
        self.thread_id = ""
        self.message_id = ""
        self.text_open = False
        self.tools = StepTools()
        self.cards: list[dict[str, Any]] = []
        self.calls = 0

    def events(self, event: AgentEvent) -> Sequence[bytes]:
        return [self.encoder.encode(e).encode() for e in self._translate(event)]

    def close(self) -> Sequence[bytes]:
        return []

    def _translate(self, event: AgentEvent) -> list[BaseEvent]:
        d = event.data
        match event.type:
            case "meta":
                self.thread_id = d["thread_id"]
                self.message_id = f"msg-{d['request_id']}"
                return [RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id)]
            case "status":
                return self._step(d)
            case "products":
                self.cards = list(d.get("products", []))
                return []
            case "token":
                opened: list[BaseEvent] = [] if self.text_open else [
                    TextMessageStartEvent(message_id=self.message_id, role="assistant")]
                self.text_open = True
                return [*opened, TextMessageContentEvent(message_id=self.message_id,
                                                         delta=d["text"])]
            case "done":
                out: list[BaseEvent] = [TextMessageEndEvent(message_id=self.message_id)] \
                    if self.text_open else []
                snapshot = {"thread_id": self.thread_id, "request_id": d.get("request_id"),
                            "products": self.cards,
                            **{k: d.get(k) for k in _SNAPSHOT_KEYS}}
                return [*out, StateSnapshotEvent(snapshot=snapshot),
                        RunFinishedEvent(thread_id=self.thread_id, run_id=self.run_id,
                                         result={"text": d.get("text", "")})]
            case "error":
                return [RunErrorEvent(message=d.get("message", "error"),
                                      code=str(d.get("error", "error")))]
        return []

    def _step(self, d: dict[str, Any]) -> list[BaseEvent]:
        node = d.get("node", "")
        out: list[BaseEvent] = [StepStartedEvent(step_name=node)]
        shown = self.tools.call(d)
        if shown:
            tool, given, result = shown
            self.calls += 1
            call = f"call-{self.run_id}-{self.calls}"
            out += [ToolCallStartEvent(tool_call_id=call, tool_call_name=tool),
                    ToolCallArgsEvent(tool_call_id=call, delta=_json(given)),
                    ToolCallEndEvent(tool_call_id=call),
                    ToolCallResultEvent(message_id=f"{call}-result", tool_call_id=call,
                                        content=_json(result), role="tool")]
        return [*out, StepFinishedEvent(step_name=node)]
