"""Helpers for the HTTP tests: an app in-process (httpx + ASGI), a real uvicorn on loopback, SSE.

Everything runs the real app: real agent graph, real change worker, the embedded SoR (SQLite)
and index (Qdrant Edge) on a copy of the demo subset from ``tests/fixtures_demo.py``, and the
real embedding model.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from app.main import create_app
from app.settings import Settings, hash_key
from tests.fixtures_demo import demo_settings_for

ASSIST_KEY = "test-assist-key-0123456789"
INGEST_KEY = "test-ingest-key-0123456789"
SHOP_ORIGIN = "https://shop.example"
CLIENT = "client-aaaaaaaa"
OTHER_CLIENT = "client-bbbbbbbb"


def http_settings(data_dir: Path, **overrides: Any) -> Settings:
    """The demo fixtures' embedded settings plus what the HTTP layer needs: keys, CORS, a
    generous limit and the in-process worker, unless overridden."""
    values: dict[str, Any] = {
        "ASSIST_API_KEY_HASHES": [hash_key(ASSIST_KEY)],
        "INGEST_API_KEY_HASHES": [hash_key(INGEST_KEY)],
        "CORS_ORIGINS": [SHOP_ORIGIN],
        "RATE_LIMIT_PER_MIN": 10_000,
        "WORKER_MODE": "inprocess",
        **overrides,
    }
    return demo_settings_for(data_dir, **values)  # type: ignore[no-any-return]


async def _settle_outbox(data_dir: Path) -> None:
    """Ack the outbox rows the bulk load wrote: ingest already indexed exactly those states."""
    from catalog.sor.base import open_sor

    sor = open_sor(demo_settings_for(data_dir).sor_url)
    await sor.open()
    try:
        while rows := await sor.claim_changes(1000):
            await sor.ack_changes([r.id for r in rows])
    finally:
        await sor.close()


def fresh_copy(demo_data: Path, dest: Path) -> Path:
    """A private copy of the ingested demo data (``tests/fixtures_demo.py``) in steady state,
    so one module's writes never leak into another and no test races the worker's catch-up."""
    shutil.copytree(demo_data, dest)
    # In a thread, so an async test (whose loop is running) may call this too.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _settle_outbox(dest)).result()
    return dest


@asynccontextmanager
async def running_app(
    settings: Settings, embedder: Any, **options: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan running, and an httpx client speaking ASGI to it;
    ``options`` go to ``create_app`` (``telemetry``)."""
    app = create_app(settings, embedder=embedder, **options)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``event:``/``data:`` blocks -> [(type, data)]; comment lines (pings) are dropped."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        kind, data = "message", []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                kind = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((kind, json.loads("\n".join(data))))
    return events


def sor_call(settings: Settings, method: str, *args: Any) -> Any:
    """Call the SoR from outside the server, as another program writing the catalog would.

    In a thread with its own loop, so sync tests (playwright, subprocess drivers) and async
    tests alike may call it."""
    from catalog.sor.base import open_sor

    async def run() -> Any:
        sor = open_sor(settings.sor_url)
        await sor.open()
        try:
            return await getattr(sor, method)(*args)
        finally:
            await sor.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        key, value = line.rsplit(" ", 1)
        series, _, rest = key.partition("{")
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if series == name and got == want:
            return float(value)
    return 0.0


class LiveServer:
    """A real uvicorn serving the app on 127.0.0.1 in a background thread (its own event loop)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
        )
        self.thread = threading.Thread(target=self._run, name="uvicorn-test", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        except BaseException as exc:  # surfaced by start()
            self.error = exc

    def start(self, timeout: float = 120.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"server failed to start: {self.error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@contextmanager
def live_server(settings: Settings, embedder: Any) -> Iterator[LiveServer]:
    server = LiveServer(create_app(settings, embedder=embedder))
    server.start()
    try:
        yield server
    finally:
        server.stop()

