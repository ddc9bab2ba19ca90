"""SSE transport: heartbeats, in-band errors, and a client disconnect cancelling the graph run.

The disconnect test runs the real app under a real uvicorn on loopback with the LLM step
enabled against a slow OpenAI-compatible stand-in (also on loopback). The shopper goes away
while the graph waits in its LLM call; the stand-in sees its caller hang up (the run was
cancelled, not left to finish), and the stream is counted as cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agents.schemas import AgentEvent
from app.api.sse import sse_response
from app.metrics import HttpMetrics
from catalog.errors import SorUnavailable
from tests.http_support import (
    CLIENT,
    LiveServer,
    fresh_copy,
    http_settings,
    live_server,
    metric,
    parse_sse,
)


def sse_app(events: Any, metrics: HttpMetrics, ping: float,
            runs: asyncio.Semaphore | None = None) -> Starlette:
    """A bare app serving one stream through ``app/sse.py`` (the transport under test)."""

    async def endpoint(request: Request) -> Response:
        return sse_response(events(), metrics, started=time.perf_counter(), runs=runs,
                            ping_seconds=ping)

    return Starlette(routes=[Route("/stream", endpoint, methods=["POST"])])


async def test_quiet_streams_get_ping_comments_between_events() -> None:
    async def events() -> AsyncIterator[AgentEvent]:
        yield AgentEvent(type="meta", data={"thread_id": "t", "request_id": "r"})
        await asyncio.sleep(0.35)
        yield AgentEvent(type="done", data={"text": "ok"})

    metrics = HttpMetrics(CollectorRegistry())
    app = sse_app(events, metrics, ping=0.1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        resp = await c.post("/stream")
    pings = resp.text.count(": ping")
    assert pings >= 2, resp.text
    text = resp.text
    assert text.index("event: meta") < text.index(": ping") < text.index("event: done")
    assert [t for t, _ in parse_sse(text)] == ["meta", "done"], "pings are comments, not events"


async def test_a_failure_after_the_first_event_ends_the_stream_with_one_error_event() -> None:
    async def events() -> AsyncIterator[AgentEvent]:
        yield AgentEvent(type="meta", data={"thread_id": "t", "request_id": "r"})
        raise SorUnavailable("the SoR did not answer", setting="SHOPKEEPER_SOR_URL")

    async def crash() -> AsyncIterator[AgentEvent]:
        yield AgentEvent(type="meta", data={"thread_id": "t", "request_id": "r"})
        raise RuntimeError("internal detail that must not leak")

    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    for gen, expect in ((events, "SorUnavailable"), (crash, "InternalError")):
        app = sse_app(gen, metrics, ping=15)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            resp = await c.post("/stream")
        parsed = parse_sse(resp.text)
        assert [t for t, _ in parsed] == ["meta", "error"]
        assert parsed[1][1]["error"] == expect
        assert "internal detail" not in resp.text and "Traceback" not in resp.text
    assert registry.get_sample_value("shopkeeper_sse_streams_total", {"outcome": "error"}) == 2


async def test_graph_runs_wait_for_a_run_slot_after_their_meta_event() -> None:
    release = asyncio.Event()
    ran: list[int] = []

    def events_of(n: int) -> Any:
        async def events() -> AsyncIterator[AgentEvent]:
            yield AgentEvent(type="meta", data={"thread_id": f"t{n}", "request_id": "r"})
            ran.append(n)  # the graph's work starts here, once admitted
            await release.wait()
            yield AgentEvent(type="done", data={"text": "ok"})
        return events

    runs = asyncio.Semaphore(1)
    metrics = HttpMetrics(CollectorRegistry())
    apps = [sse_app(events_of(n), metrics, ping=15, runs=runs) for n in (1, 2)]
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(a), base_url="http://t")
               for a in apps]

    async def first_line(c: httpx.AsyncClient, out: list[str]) -> None:
        async with c.stream("POST", "/stream") as resp:
            async for line in resp.aiter_lines():
                out.append(line)

    seen: tuple[list[str], list[str]] = ([], [])
    tasks = [asyncio.create_task(first_line(c, s)) for c, s in zip(clients, seen, strict=True)]
    for _ in range(100):
        if ran:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert ran == [1], "only one run holds the single slot"
    release.set()
    await asyncio.gather(*tasks)
    assert ran == [1, 2]
    for lines in seen:
        assert lines[0] == "event: meta" and "event: done" in lines
    for c in clients:
        await c.aclose()


class SlowLLM:
    """An OpenAI-compatible endpoint that takes its time, and notices a caller hanging up."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.hung_up = threading.Event()
        self.calls = 0

    def app(self) -> Starlette:
        async def completions(request: Request) -> Response:
            await request.body()
            self.calls += 1
            self.started.set()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    self.hung_up.set()
                    return Response(status_code=499)
                await asyncio.sleep(0.02)
            return JSONResponse({"error": {"message": "too slow"}}, status_code=504)

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


@pytest.mark.model
@pytest.mark.slow
async def test_client_disconnect_cancels_the_graph_run(
    tmp_path: Path, demo_data: Path, embedder: Any
) -> None:
    llm = SlowLLM()
    llm_server = LiveServer(llm.app())
    llm_server.start()
    try:
        data = fresh_copy(demo_data, tmp_path / "data")
        settings = http_settings(
            data, LLM_PROVIDER="openai", LLM_MODEL="stand-in", LLM_API_KEY="unused",
            LLM_BASE_URL=f"{llm_server.url}/v1", LLM_TIMEOUT_S=30,
        )
        with live_server(settings, embedder) as server:
            seen: list[str] = []
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                async with client.stream(
                    "POST", "/v1/chat/stream", json={"message": "wireless mouse"},
                    headers={"X-Client-Id": CLIENT},
                ) as resp:
                    assert resp.status_code == 200
                    # Hold the line iterator: dropping it early would close the connection.
                    lines = resp.aiter_lines()
                    while "products" not in seen:  # then the graph moves on to its LLM step
                        line = await anext(lines)
                        if line.startswith("event:"):
                            seen.append(line.split(":", 1)[1].strip())
                    assert await asyncio.to_thread(llm.started.wait, 20), "LLM step never began"
                    assert not llm.hung_up.is_set()
                    await lines.aclose()
                # Leaving the block closes the connection mid-answer.

                assert await asyncio.to_thread(llm.hung_up.wait, 10), (
                    "the graph's LLM call was not cancelled when the shopper left"
                )
                text = ""
                for _ in range(100):
                    text = (await client.get("/metrics")).text
                    if metric(text, "shopkeeper_sse_streams_total", outcome="cancelled") == 1:
                        break
                    await asyncio.sleep(0.05)
                assert metric(text, "shopkeeper_sse_streams_total", outcome="cancelled") == 1
                assert metric(text, "shopkeeper_sse_streams_active") == 0
                assert metric(text, "shopkeeper_sse_streams_total", outcome="done") == 0
            assert seen[0] == "meta" and "done" not in seen
            assert llm.calls == 1, "a cancelled run is not retried"
    finally:
        llm_server.stop()


def test_a_hang_up_after_the_first_token_is_cancelled_without_writing_to_a_dead_socket(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The answer's tokens come without a pause. A shopper who leaves after the first must
    still be noticed: the stream counts as cancelled, and the rest is not written into the
    closed socket (asyncio's "socket.send() raised exception." once per write)."""
    left = threading.Event()

    async def events() -> AsyncIterator[AgentEvent]:
        yield AgentEvent(type="meta", data={"thread_id": "t", "request_id": "r"})
        yield AgentEvent(type="token", data={"text": "first "})
        await asyncio.to_thread(left.wait, 10)  # the shopper has gone
        for i in range(200):  # then the rest of the answer, back to back
            yield AgentEvent(type="token", data={"text": f"word{i} "})
        yield AgentEvent(type="done", data={"text": "..."})

    registry = CollectorRegistry()
    server = LiveServer(sse_app(events, HttpMetrics(registry), ping=15))
    server.start()
    try:
        host, port = server.url.removeprefix("http://").split(":")
        with caplog.at_level(logging.WARNING, logger="asyncio"), \
                socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            seen = b""
            while b"event: token" not in seen:
                chunk = sock.recv(4096)
                assert chunk, "the stream ended before its first token"
                seen += chunk
            sock.close()
            left.set()
            outcome: dict[str, float | None] = {}
            for _ in range(200):
                outcome = {o: registry.get_sample_value("shopkeeper_sse_streams_total",
                                                        {"outcome": o})
                           for o in ("cancelled", "done")}
                if any(outcome.values()):
                    break
                time.sleep(0.05)
        assert outcome == {"cancelled": 1.0, "done": None}
        dead_writes = [r for r in caplog.records if "socket.send() raised" in r.getMessage()]
        assert not dead_writes, f"{len(dead_writes)} writes into the closed socket"
    finally:
        server.stop()
