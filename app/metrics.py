"""HTTP and SSE metrics on the app's own ``CollectorRegistry`` (one per app, so tests never clash).

``MetricsMiddleware`` is plain ASGI rather than ``BaseHTTPMiddleware`` so streamed responses
pass through untouched; it labels by route template (``/v1/threads/{thread_id}``), never by raw
path, to keep label cardinality bounded.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class HttpMetrics:
    """The app's HTTP series; built once per app on its registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "shopkeeper_http_requests", "HTTP requests by route, method and status",
            ["route", "method", "status"], registry=registry,
        )
        self.latency = Histogram(
            "shopkeeper_http_request_seconds", "Time to the response start (headers sent)",
            ["route", "method"], buckets=_LATENCY_BUCKETS, registry=registry,
        )
        self.streams_active = Gauge(
            "shopkeeper_sse_streams_active", "SSE answer streams open now", registry=registry
        )
        self.streams = Counter(
            "shopkeeper_sse_streams", "SSE answer streams by how they ended",
            ["outcome"], registry=registry,
        )
        self.first_event = Histogram(
            "shopkeeper_sse_first_event_seconds", "Request start to the first SSE event",
            buckets=_LATENCY_BUCKETS, registry=registry,
        )
        self.rate_limited = Counter(
            "shopkeeper_http_rate_limited", "Requests refused with 429", registry=registry
        )


class MetricsMiddleware:
    """Count requests and time them to the response start; reads metrics from ``app.state``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})["started"] = started  # request.state.started, for SSE TTFE
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                metrics = _metrics(scope)
                if metrics is not None:
                    metrics.latency.labels(_route(scope), scope["method"]).observe(
                        time.perf_counter() - started
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            metrics = _metrics(scope)
            if metrics is not None:
                metrics.requests.labels(_route(scope), scope["method"], str(status)).inc()


def _metrics(scope: Scope) -> HttpMetrics | None:
    runtime: Any = getattr(scope["app"].state, "runtime", None)
    return getattr(runtime, "metrics", None)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "")) or "unmatched"
