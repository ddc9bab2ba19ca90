"""Tracing, off by default: the OpenTelemetry SDK built from settings, and the tracer handed down.

``SHOPKEEPER_OTLP_ENDPOINT`` turns it on: spans go through a batch processor to the OTLP/HTTP
exporter (the standard ``OTEL_EXPORTER_OTLP_*`` variables, e.g. headers, still apply). No global
provider is set: each app or worker owns its provider and passes its tracer to the layers below,
which use only OpenTelemetry's API. Caller ids and credentials never reach an exporter: headers
are not captured unless named, and then sanitised, and the scrubber redacts any attribute whose
name says it carries one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Tracer

from app.settings import Settings
from catalog.tracing import NO_TRACER, is_sensitive

REDACTED = "[REDACTED]"
# Headers that identify a caller or grant access: sanitised if header capture is ever turned on
# (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST).
SENSITIVE_HEADERS = ["x-client-id", "authorization", "x-api-key", "cookie", "set-cookie",
                     "proxy-authorization", ".*key.*", ".*token.*", ".*secret.*"]
# Query parameters whose values are redacted inside URL attributes.
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:[^=&#]*(?:client[_-]?id|api[_-]?key|key|token|secret|password)[^=&#]*)=)"
    r"[^&#]*")
# Health and metrics probes would drown the traces that matter.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"


def scrub(key: str, value: Any) -> Any:
    """The value an attribute may be exported with: redacted when it names a caller id or a
    credential, URLs with such query parameters masked, anything else as it was."""
    if is_sensitive(key):
        if isinstance(value, tuple | list):  # captured headers are sequences: keep the shape
            return value if all(v == REDACTED for v in value) else (REDACTED,) * len(value)
        return value if value == REDACTED else REDACTED
    if isinstance(value, str) and ("?" in value or "&" in value):
        return _QUERY_SECRET.sub(rf"\1{REDACTED}", value)
    return value


def scrub_span(span: Any, *_: Any) -> None:
    """Rewrite a live span's sensitive attributes in place (also the server request hook, which
    runs once the HTTP instrumentation has set the URL and headers)."""
    if not span.is_recording():
        return
    for key, value in dict(getattr(span, "attributes", None) or {}).items():
        clean = scrub(key, value)
        if clean is not value:
            span.set_attribute(key, clean)


class ScrubProcessor(SpanProcessor):
    """Redacts sensitive attributes every span starts with."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        scrub_span(span)

    def on_end(self, span: ReadableSpan) -> None:
        return None


@dataclass
class Telemetry:
    """One process's tracing: a provider (None when off), and whether content is recorded."""

    provider: TracerProvider | None = None
    content: bool = False

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    @property
    def tracer(self) -> Tracer:
        """The tracer the lower layers are given (a no-op one when tracing is off)."""
        return self.provider.get_tracer("shopkeeper") if self.provider else NO_TRACER

    def instrument(self, app: FastAPI) -> None:
        """A server span per HTTP request (W3C traceparent read from the request headers)."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=self.provider, excluded_urls=EXCLUDED_URLS,
            server_request_hook=scrub_span,
            http_capture_headers_sanitize_fields=SENSITIVE_HEADERS,
            exclude_spans=["receive", "send"],  # one span per request, not one per body chunk
        )

    def shutdown(self) -> None:
        """Export what is buffered, then stop (the app's lifespan end, the worker's exit)."""
        if self.provider is not None:
            self.provider.shutdown()


def build_telemetry(
    settings: Settings, *, processors: Sequence[SpanProcessor] | None = None
) -> Telemetry:
    """Tracing from settings; ``processors`` (tests: an in-memory exporter) replace OTLP."""
    if processors is None and not settings.OTLP_ENDPOINT:
        return Telemetry(content=settings.TRACE_CONTENT)
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.SERVICE_NAME}),
        sampler=ParentBased(TraceIdRatioBased(settings.TRACE_SAMPLE_RATIO)),
    )
    provider.add_span_processor(ScrubProcessor())
    if processors is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=traces_url(settings.OTLP_ENDPOINT))))
    else:
        for processor in processors:
            provider.add_span_processor(processor)
    return Telemetry(provider, content=settings.TRACE_CONTENT)


def traces_url(endpoint: str) -> str:
    """The collector's base URL (``http://collector:4318``) -> its traces path, as the
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` convention has it; a full ``.../v1/traces`` stays."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"
