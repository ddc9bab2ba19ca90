"""Tracing's edges, without the model: OTLP/HTTP to a real receiver on loopback, and scrubbing.

The receiver is a plain ``http.server`` that decodes each POST body as the protobuf
``ExportTraceServiceRequest`` the OTLP/HTTP protocol sends, so the test checks the bytes a
collector would get, from the exporter built exactly as ``SHOPKEEPER_OTLP_ENDPOINT`` builds it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.settings import Settings
from app.telemetry import REDACTED, build_telemetry, scrub, traces_url

CLIENT_ID = "client-secret-7f3a9c"
KEY = "ingest-key-do-not-export-1234"


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP traces endpoint on 127.0.0.1: keeps every decoded request and its path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, ExportTraceServiceRequest]] = []
        self.got = threading.Event()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.requests.append((self.path, self.headers["Content-Type"], request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")  # an empty ExportTraceServiceResponse: all accepted
        self.server.got.set()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _attrs(span: Any) -> dict[str, Any]:
    out = {}
    for kv in span.attributes:
        value = kv.value
        out[kv.key] = value.string_value or value.int_value or list(
            v.string_value for v in value.array_value.values)
    return out


def test_spans_reach_an_otlp_http_receiver_as_protobuf(receiver: Receiver) -> None:
    settings = Settings(OTLP_ENDPOINT=receiver.endpoint, SERVICE_NAME="shopkeeper-test")
    telemetry = build_telemetry(settings)
    assert telemetry.enabled
    tracer = telemetry.tracer
    with tracer.start_as_current_span("invoke_agent ShoppingAgent") as parent, \
            tracer.start_as_current_span("index query", attributes={"shopkeeper.hits": 3}):
        pass
    telemetry.shutdown()  # flushes the batch processor
    assert receiver.got.wait(10), "the exporter never posted"
    path, content_type, request = receiver.requests[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    (resource_spans,) = request.resource_spans
    resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
    assert resource["service.name"] == "shopkeeper-test"
    spans = {s.name: s for ss in resource_spans.scope_spans for s in ss.spans}
    assert set(spans) == {"invoke_agent ShoppingAgent", "index query"}
    child, root = spans["index query"], spans["invoke_agent ShoppingAgent"]
    assert child.trace_id == root.trace_id == parent.get_span_context().trace_id.to_bytes(16)
    assert child.parent_span_id == root.span_id
    assert _attrs(child)["shopkeeper.hits"] == 3


def test_no_endpoint_means_no_tracing() -> None:
    telemetry = build_telemetry(Settings(OTLP_ENDPOINT=""))
    assert not telemetry.enabled
    assert not telemetry.tracer.start_span("x").is_recording()


def test_the_traces_path_is_added_to_a_collector_base_url() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces/") == "http://collector:4318/v1/traces"


def test_scrub_redacts_caller_ids_and_credentials_only() -> None:
    assert scrub("http.request.header.x_client_id", [CLIENT_ID]) == (REDACTED,)
    assert scrub("http.request.header.authorization", (f"Bearer {KEY}",)) == (REDACTED,)
    assert scrub("shopkeeper.api_key", KEY) == REDACTED
    assert scrub("url.query", f"tenant=demo&api_key={KEY}") == f"tenant=demo&api_key={REDACTED}"
    assert scrub("http.target", f"/v1/x?client_id={CLIENT_ID}&q=mouse") == (
        f"/v1/x?client_id={REDACTED}&q=mouse")
    assert scrub("shopkeeper.hits", 3) == 3
    assert scrub("url.path", "/v1/chat/stream") == "/v1/chat/stream"


async def test_http_spans_never_export_client_ids_or_keys_even_with_header_capture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real FastAPI instrumentation, asked to capture every request header (the env knob
    operators use), still exports neither the client id nor the key."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    exporter = InMemorySpanExporter()
    telemetry = build_telemetry(Settings(), processors=[SimpleSpanProcessor(exporter)])
    app = FastAPI()

    @app.get("/v1/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    telemetry.instrument(app)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        resp = await client.get(f"/v1/ping?api_key={KEY}&q=1", headers={
            "X-Client-Id": CLIENT_ID, "Authorization": f"Bearer {KEY}", "X-API-Key": KEY,
            "Accept": "application/json"})
    assert resp.status_code == 200
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert attrs["http.request.header.accept"] == ("application/json",), "capture is on"
    assert CLIENT_ID not in repr(attrs) and KEY not in repr(attrs)
    assert attrs["http.request.header.x_client_id"] == (REDACTED,)
    assert attrs["http.url"].endswith(f"?api_key={REDACTED}&q=1")
