"""Helpers for the HTTP tests: an app in-process (httpx + ASGI), a real uvicorn on loopback, SSE.

Everything runs the real app: real agent graph, real change worker, the embedded SoR (SQLite)
and index (Qdrant Edge) on a copy of a small ingested demo subset, and the real embedding model.
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

ASSIST_KEY = "test-assist-key-0123456789"
INGEST_KEY = "test-ingest-key-0123456789"
SHOP_ORIGIN = "https://shop.example"
CLIENT = "client-aaaaaaaa"
OTHER_CLIENT = "client-bbbbbbbb"
DEMO_SUBSET = 150


def http_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for an app under test: keys, CORS and a generous limit unless overridden."""
    values: dict[str, Any] = {
        "DATA_DIR": data_dir,
        "ASSIST_API_KEY_HASHES": [hash_key(ASSIST_KEY)],
        "INGEST_API_KEY_HASHES": [hash_key(INGEST_KEY)],
        "CORS_ORIGINS": [SHOP_ORIGIN],
        "RATE_LIMIT_PER_MIN": 10_000,
        "LLM_PROVIDER": "none",
        **overrides,
    }
    return Settings(**values)


async def ingest_demo_subset(data_dir: Path, embedder: Any, n: int = DEMO_SUBSET) -> None:
    """The first ``n`` products of the bundled demo catalog into a fresh embedded data dir."""
    from app.wiring import services
    from catalog.importers import DEMO_CATALOG, load_products
    from ingestion.pipeline import ingest_products
    from ingestion.worker import ChangeWorker

    products = load_products(DEMO_CATALOG, tenant="demo").products[:n]
    settings = Settings(DATA_DIR=data_dir)
    async with services(settings, embedder=embedder) as svc:
        await ingest_products(products, tenant="demo", sor=svc.sor, writer=svc.writer)
        # Settle the outbox the bulk load wrote, as a first server start would, so tests start
        # from a steady state instead of racing the worker's catch-up.
        worker = ChangeWorker(svc, settings, warm_model=False)
        await worker.start()
        try:
            assert await worker.drain(timeout=120), "the demo subset's outbox did not drain"
        finally:
            await worker.stop()


def copy_data_dir(template: Path, dest: Path) -> Path:
    """Each test module gets its own copy, so one module's writes never leak into another."""
    shutil.copytree(template, dest)
    return dest


@asynccontextmanager
async def running_app(
    settings: Settings, embedder: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan running, and an httpx client speaking ASGI to it."""
    app = create_app(settings, embedder=embedder)
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


def demo_data_template(tmp_path_factory: Any, embedder: Any) -> Path:
    """Ingest the demo subset once per test session (later callers reuse the directory)."""
    template = Path(tmp_path_factory.getbasetemp()) / "http-demo-template"
    marker = template / ".ingested"
    if not marker.exists():
        shutil.rmtree(template, ignore_errors=True)
        # In a thread, so an async test (whose loop is running) may be the first caller.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, ingest_demo_subset(template, embedder)).result()
        marker.touch()
    return template
