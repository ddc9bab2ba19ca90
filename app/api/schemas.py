"""Request and response bodies of the HTTP API (the agent's models are in agents/schemas.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

THREAD_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,128}$"


class ChatIn(BaseModel):
    """A shopper's message; send the ``thread_id`` from the ``meta`` event to continue a thread."""

    message: str = Field(
        min_length=1, max_length=20_000, description="Limited by SHOPKEEPER_MAX_MESSAGE_CHARS",
        examples=["wireless mouse under $30 that is in stock"],
    )
    thread_id: str | None = Field(
        default=None, pattern=THREAD_ID_PATTERN, examples=[None],
        description="Resume this thread (it must be yours: same X-Client-Id)",
    )
    tenant: str | None = Field(
        default=None, max_length=64, examples=["demo"],
        description="Shop id; default SHOPKEEPER_TENANT",
    )


class QueryIn(BaseModel):
    """One question, one JSON answer: for other systems (no thread is kept for the caller)."""

    message: str = Field(min_length=1, max_length=20_000, examples=["HP 301 ink cartridge price"])
    tenant: str | None = Field(default=None, max_length=64, examples=["demo"])


class Turn(BaseModel):
    """One earlier message of the customer conversation a support agent pasted."""

    role: Literal["customer", "agent"] = Field(examples=["customer"])
    content: str = Field(min_length=1, max_length=20_000, examples=["Is the MX Master 3 in stock?"])


class AssistIn(BaseModel):
    """The conversation so far (pasted) and the customer's latest message."""

    message: str = Field(
        min_length=1, max_length=20_000, examples=["Do you have it in black, and how much is it?"],
        description="The customer's latest message",
    )
    history: list[Turn] = Field(
        default_factory=list, max_length=1000,
        description="Earlier turns, oldest first; limited by SHOPKEEPER_MAX_HISTORY_MESSAGES",
        examples=[[{"role": "customer", "content": "I need a quiet wireless mouse"},
                   {"role": "agent", "content": "Happy to help: any budget in mind?"}]],
    )
    thread_id: str | None = Field(
        default=None, pattern=THREAD_ID_PATTERN, description="Continue an assist thread"
    )
    tenant: str | None = Field(default=None, max_length=64, examples=["demo"])


class UIPart(BaseModel):
    """One part of an AI SDK ``UIMessage``; only the last user message's text parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=128, examples=["text"])
    text: str | None = Field(default=None, max_length=20_000, examples=["wireless mouse"])


class UIMessageIn(BaseModel):
    """An AI SDK ``UIMessage`` as ``useChat`` sends it back (metadata and tool parts included)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(max_length=256, examples=["m-1"])
    role: Literal["system", "user", "assistant"] = Field(examples=["user"])
    parts: list[UIPart] = Field(default_factory=list, max_length=500)


class UIChatIn(BaseModel):
    """What ``useChat``'s default transport posts: the chat id (our thread) and every message.

    Only the last user message is answered; earlier turns come from the thread's own memory,
    never from the pasted messages (a pasted assistant turn could carry any price)."""

    id: str = Field(pattern=THREAD_ID_PATTERN, examples=["Vx3kS9pQ2mB7tN1c"],
                    description="The chat id; it names the thread (yours: same X-Client-Id)")
    messages: list[UIMessageIn] = Field(
        min_length=1, max_length=1000,
        examples=[[{"id": "m-1", "role": "user",
                    "parts": [{"type": "text", "text": "wireless mouse under $30"}]}]],
    )
    trigger: Literal["submit-message", "regenerate-message"] = "submit-message"
    messageId: str | None = Field(default=None, max_length=256)
    tenant: str | None = Field(default=None, max_length=64, examples=["demo"])


class ErrorDetail(BaseModel):
    type: str = Field(examples=["not_found"])
    message: str = Field(examples=["no such conversation (the id is unknown here)"])
    details: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    """Every 4xx/5xx body has this shape; never a traceback."""

    error: ErrorDetail


class EventRejection(BaseModel):
    index: int = Field(description="Position of the event in the posted list", examples=[1])
    id: str | None = Field(default=None, examples=["evt-2"])
    reason: str = Field(examples=["price.amount: Input should be greater than or equal to 0"])


class EventsAccepted(BaseModel):
    """Every event was validated and committed to the SoR; the index follows within moments."""

    accepted: list[str] = Field(examples=[["evt-1", "evt-2"]])
    count: int = Field(examples=[2])
    outcomes: dict[str, str] = Field(
        default_factory=dict,
        description="Per event id: applied | skipped_stale | dead_lettered (see `shopkeeper dlq`)",
        examples=[{"evt-1": "applied", "evt-2": "applied"}],
    )


class EventsRejected(BaseModel):
    """Nothing was queued: fix the listed events and post the batch again."""

    error: ErrorDetail
    rejected: list[EventRejection]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Check(BaseModel):
    ok: bool
    detail: str = ""
    ms: float = 0.0


class Ready(BaseModel):
    """Each dependency checked now; 503 when any required check fails."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, Check]
    worker: dict[str, Any] = Field(default_factory=dict, description="lag, queue depth, DLQ size")


class ThreadOut(BaseModel):
    """A thread's conversation, oldest first (the agent keeps the newest 50 messages)."""

    thread_id: str = Field(examples=["5b0c1f9a2e"])
    messages: list[dict[str, Any]] = Field(
        description="[{role: user|assistant, content, skus?}]",
        examples=[[{"role": "user", "content": "wireless mouse under $30"},
                   {"role": "assistant", "content": "The Logitech M185 is $19.99 and in stock.",
                    "skus": ["910-005620"]}]],
    )
    count: int = Field(examples=[2])
