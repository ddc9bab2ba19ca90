"""The tracing seam every layer shares: OpenTelemetry's API only, never its SDK.

Lower layers take a ``Tracer`` (``NO_TRACER`` by default, so nothing is recorded and no global
provider is read); ``app/`` builds the SDK from settings and passes its tracer down. A change
carries its trace as a W3C ``traceparent`` string: in the outbox row, the webhook request and
Kafka headers, so one trace links a catalog commit to the index write that makes it searchable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NoOpTracer, Span, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["NO_TRACER", "Tracer", "batch_parent", "context_of", "current_traceparent",
           "is_sensitive", "span_traceparent"]

NO_TRACER: Tracer = NoOpTracer()
_W3C = TraceContextTextMapPropagator()
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
# Attribute keys whose values identify a caller or grant access: never exported as they are.
_SENSITIVE = re.compile(r"client[._-]?id|authorization|api[._-]?key|cookie|token|secret|password",
                        re.IGNORECASE)


def is_sensitive(key: str) -> bool:
    """True for attribute or header names that carry caller ids or credentials."""
    return bool(_SENSITIVE.search(key))


def current_traceparent() -> str | None:
    """The W3C traceparent of the span active here, or None when nothing is being traced."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def span_traceparent(span: Span) -> str | None:
    """The traceparent that makes ``span`` the parent of work done elsewhere (a queue, a DB)."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent")


def valid_traceparent(value: Any) -> str | None:
    """``value`` if it is a well-formed traceparent (headers come from outside), else None."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str) and _TRACEPARENT.match(value.strip().lower()):
        return value.strip().lower()
    return None


def context_of(traceparent: str | None) -> Context | None:
    """The remote parent context a traceparent names (None: start a new trace)."""
    tp = valid_traceparent(traceparent)
    return _W3C.extract({"traceparent": tp}) if tp else None


def batch_parent(traceparents: Iterable[str | None]) -> tuple[Context | None, list[Link]]:
    """One span for a batch of changes: the first traced change is its parent, the rest links."""
    parent: Context | None = None
    links: list[Link] = []
    for tp in dict.fromkeys(t for t in traceparents if t):
        ctx = context_of(tp)
        if ctx is None:
            continue
        if parent is None:
            parent = ctx
        else:
            links.append(Link(trace.get_current_span(ctx).get_span_context()))
    return parent, links


def traceparent_header(headers: Iterable[tuple[str, Any]] | Mapping[str, Any] | None) -> str | None:
    """The traceparent among message headers (Kafka's ``[(key, bytes)]`` or a mapping)."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if str(key).lower() == "traceparent":
            return valid_traceparent(value)
    return None
