"""Build the FastAPI app: ``create_app(settings)``; the lifespan opens the runtime once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app.api.main import api_router
from app.api.openapi import finish_spec
from app.bodylimit import BodyLimit
from app.errors import install_error_handlers
from app.metrics import MetricsMiddleware
from app.runtime import open_runtime
from app.settings import Settings
from app.telemetry import Telemetry, build_telemetry
from search import Embedder


def create_app(
    settings: Settings | None = None, *, embedder: Embedder | None = None,
    telemetry: Telemetry | None = None,
) -> FastAPI:
    """One app per settings; nothing is opened until the lifespan starts.

    ``embedder`` lets tests and benches share one loaded model across apps; ``telemetry``
    (tests: an in-memory exporter) replaces the tracing built from settings, and stays the
    caller's to shut down.
    """
    settings = settings or Settings()
    owned = telemetry is None
    tracing = build_telemetry(settings) if telemetry is None else telemetry

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with open_runtime(settings, embedder=embedder, telemetry=tracing) as runtime:
                app.state.runtime = runtime
                yield
        finally:
            if owned:
                tracing.shutdown()

    # /docs and /redoc with Swagger UI and ReDoc from the fastapi-offline package, not a CDN:
    # they render on a machine without a network.
    app = FastAPIOffline(
        static_url="/docs/assets",
        title="Shopkeeper",
        version="0.1.0",
        summary="Answers shoppers' questions about a catalog, with live price and stock.",
        lifespan=lifespan,
    )
    # Inside CORS, so a 413 still carries the CORS headers the shop's page needs to read it.
    app.add_middleware(
        BodyLimit, default=settings.MAX_BODY_BYTES,
        per_path={"/v1/catalog/events": settings.WEBHOOK_MAX_BODY_BYTES},
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.CORS_ORIGINS,
        allow_methods=["GET", "POST"],
        # Mcp-*: browser-based MCP clients send them after the handshake (see /mcp).
        allow_headers=["Content-Type", "X-Client-Id", "Authorization", "X-API-Key",
                       "Mcp-Protocol-Version", "Mcp-Session-Id"],
        expose_headers=["X-Client-Id", "Retry-After", "Mcp-Session-Id"],
        max_age=600,
    )
    app.add_middleware(MetricsMiddleware)
    install_error_handlers(app)
    app.include_router(api_router)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            finish_spec(generate(), settings)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    tracing.instrument(app)
    return app
