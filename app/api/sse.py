"""Agent events -> Server-Sent Events: the wire format, heartbeats and cancellation on disconnect.

Our own wire (``OwnEvents``): each ``AgentEvent`` becomes one SSE message whose ``event:`` is
the agent's fixed type (meta, status, products, token, done, error) and whose ``data:`` is the
event's JSON. The standard protocols (``app/api/protocols/``) plug in their own ``Wire``, so
admission, metrics, pings and cancellation are written once, here. Comment-line pings keep
proxies from closing a quiet stream. When the client goes away, sse-starlette
cancels the task reading our generator; the cancellation reaches the agent's stream where it
awaits, so the graph run stops, and ``finally`` counts the stream as ``cancelled``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import Protocol

import anyio
import anyio.lowlevel
from sse_starlette import EventSourceResponse, ServerSentEvent

from agents import AgentEvent, error_event
from app.metrics import HttpMetrics
from catalog import ShopkeeperError

log = logging.getLogger("shopkeeper.sse")

PING_SECONDS = 15.0
SEND_TIMEOUT_SECONDS = 30.0
TERMINAL = frozenset({"done", "error"})


def to_sse(event: AgentEvent) -> ServerSentEvent:
    """One agent event as one SSE message (compact JSON; datetimes and decimals as strings)."""
    data = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False, default=str)
    return ServerSentEvent(data=data, event=event.type)


Message = ServerSentEvent | bytes
"""One SSE message, or bytes already in SSE form (as ``ag-ui-protocol``'s encoder writes)."""


class Wire(Protocol):
    """How one protocol writes the agent's events; one instance per stream (it may keep state)."""

    def events(self, event: AgentEvent) -> Sequence[Message]:
        """The messages for one agent event, in order."""
        ...

    def close(self) -> Sequence[Message]:
        """What follows the last event (``data: [DONE]`` for the AI SDK), if anything."""
        ...


class OwnEvents:
    """Shopkeeper's own wire: one named SSE event per agent event."""

    def events(self, event: AgentEvent) -> Sequence[Message]:
        return [to_sse(event)]

    def close(self) -> Sequence[Message]:
        return []


def ping() -> ServerSentEvent:
    return ServerSentEvent(comment="ping")


async def _close(events: AsyncIterator[AgentEvent]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


async def prime(events: AsyncIterator[AgentEvent]) -> AsyncGenerator[AgentEvent, None]:
    """Run the stream to its first event before answering, so early failures (bad thread,
    unknown tenant) become a proper HTTP status instead of an ``error`` event after a 200."""
    try:
        first = await anext(events)
    except BaseException:
        await _close(events)
        raise

    async def chained() -> AsyncGenerator[AgentEvent, None]:
        try:
            yield first
            async for event in events:
                yield event
        finally:
            await _close(events)

    return chained()


async def admitted(
    events: AsyncIterator[AgentEvent], runs: asyncio.Semaphore | None
) -> AsyncGenerator[AgentEvent, None]:
    """The first event (``meta``, sent before the agent's graph starts) at once; the rest once
    a run slot is free, so a busy server still opens every stream without delay."""
    try:
        first = await anext(events, None)
        if first is None:
            return
        yield first
        if runs is None:
            async for event in events:
                yield event
            return
        async with runs:
            async for event in events:
                yield event
    finally:
        await _close(events)


async def _messages(
    events: AsyncIterator[AgentEvent],
    metrics: HttpMetrics,
    started: float,
    runs: asyncio.Semaphore | None,
    wire: Wire,
) -> AsyncIterator[Message]:
    outcome = "cancelled"  # stays so unless the stream ends on done/error
    seen_first = False
    metrics.streams_active.inc()
    try:
        async for event in admitted(events, runs):
            if not seen_first:
                seen_first = True
                metrics.first_event.observe(time.perf_counter() - started)
            for message in wire.events(event):
                yield message
            if event.type in TERMINAL:
                outcome = event.type
                break
            # The answer's tokens arrive without a pause: let the loop run between them, so a
            # hang-up is noticed (uvicorn marks the connection lost, sse-starlette cancels us)
            # instead of every token being written into a dead socket and counted as done.
            await anyio.lowlevel.checkpoint()
        else:
            outcome = "incomplete"  # the agent ended without done/error: its bug, but say so
            log.warning("agent stream ended without a done or error event")
    except Exception as exc:  # after the 200: report in-band, never a traceback
        if not isinstance(exc, ShopkeeperError):
            log.error("agent stream failed", exc_info=exc)
        outcome = "error"
        for message in wire.events(error_event(exc)):
            yield message
    finally:
        metrics.streams_active.dec()
        metrics.streams.labels(outcome).inc()
        if outcome == "cancelled":
            log.info("client disconnected; agent run cancelled")
        # Close the agent's stream even if we are being cancelled, so its cleanup runs.
        with anyio.move_on_after(5, shield=True):
            await _close(events)
    for message in wire.close():  # reached only when the stream ended, not when cancelled
        yield message


def sse_response(
    events: AsyncIterator[AgentEvent],
    metrics: HttpMetrics,
    *,
    started: float,
    runs: asyncio.Semaphore | None = None,
    ping_seconds: float = PING_SECONDS,
    headers: Mapping[str, str] | None = None,
    wire: Wire | None = None,
) -> EventSourceResponse:
    """The streaming response in ``wire``'s protocol (ours by default); sse-starlette adds
    ``Cache-Control: no-store`` and ``X-Accel-Buffering: no``, so nginx does not buffer it."""
    return EventSourceResponse(
        _messages(events, metrics, started, runs, wire or OwnEvents()),
        ping=ping_seconds,
        ping_message_factory=ping,
        send_timeout=SEND_TIMEOUT_SECONDS,
        headers=headers,
    )
