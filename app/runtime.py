"""What the HTTP app holds for its lifetime: built once in the lifespan, closed in reverse order."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from mcp.server.mcpserver import MCPServer
from prometheus_client import CollectorRegistry

from agents import CatalogBrowser, ShoppingAgent
from app.api.protocols.mcp import build_server, running
from app.metrics import HttpMetrics
from app.ratelimit import RateLimiter
from app.settings import Settings
from app.telemetry import Telemetry
from app.wiring import Services, build_worker, open_agent, services
from ingestion import ChangeWorker
from search import Embedder


@dataclass
class Runtime:
    """The app's long-lived objects; reached by routes only through ``app/api/deps.py``."""

    settings: Settings
    services: Services
    agent: ShoppingAgent
    worker: ChangeWorker | None
    registry: CollectorRegistry
    metrics: HttpMetrics
    limiter: RateLimiter
    runs: asyncio.Semaphore
    """Graph runs allowed at once; the rest queue (streams have already sent ``meta``)."""
    browser: CatalogBrowser
    """Search, lookup and product detail with live offers (the MCP tools' logic)."""
    mcp: MCPServer
    """The MCP catalog server; its session manager runs for the app's lifetime."""
    sse_ping_seconds: float = 15.0


def concurrent_runs() -> int:
    """Graph runs are CPU-bound (embedding, ranking): more at once than cores only thrashes,
    and starves the event loop that must answer new requests and flush streams."""
    return max(2, os.cpu_count() or 2)


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, embedder: Embedder | None = None, telemetry: Telemetry | None = None
) -> AsyncIterator[Runtime]:
    """Services, agent and the change worker (unless WORKER_MODE=off); the worker stops first."""
    registry = CollectorRegistry()
    tracer = (telemetry or Telemetry()).tracer
    async with AsyncExitStack() as stack:
        svc = await stack.enter_async_context(services(settings, embedder=embedder,
                                                       tracer=tracer))
        # Load the models now (queries and the worker's documents), not on first use.
        await asyncio.to_thread(svc.embedder.warm)
        agent = await stack.enter_async_context(open_agent(svc, settings))
        browser = CatalogBrowser(agent.deps)
        mcp, _ = build_server(browser)
        await stack.enter_async_context(running(mcp))
        worker = None
        if settings.WORKER_MODE != "off":
            # inprocess: the full worker (outbox -> index). external: a separate `shopkeeper
            # worker` owns the index; here only the webhook's SoR writes run, with retries + DLQ.
            external = settings.WORKER_MODE == "external"
            worker = build_worker(
                svc, settings, registry=registry, sources=() if external else None,
                warm_model=not external,
                status_file=settings.DATA_DIR / "api-writer-status.json" if external else None,
            )
            await worker.start()
            stack.push_async_callback(worker.stop)
        yield Runtime(
            settings=settings, services=svc, agent=agent, worker=worker, registry=registry,
            metrics=HttpMetrics(registry), limiter=RateLimiter(settings.RATE_LIMIT_PER_MIN),
            runs=asyncio.Semaphore(concurrent_runs()), browser=browser, mcp=mcp,
        )
