"""The span trees of one question and of one catalog change, on the real app (in-memory export).

Each module gets its own ``TracerProvider`` with the SDK's ``InMemorySpanExporter``, handed to
``create_app``: no global provider is set, so no test must reset one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.telemetry import build_telemetry
from tests.http_support import CLIENT, INGEST_KEY, fresh_copy, http_settings, running_app

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

MOUSE_SKU = "122442"  # "HP USB Optical 3-button Mouse" in the demo subset
SENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
SENT_PARENT = "b7ad6b7169203331"
Traced = tuple[FastAPI, httpx.AsyncClient, InMemorySpanExporter]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Path:
    return fresh_copy(demo_data, tmp_path_factory.mktemp("tracing") / "data")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def traced(data_dir: Path, embedder: Any) -> Any:
    exporter = InMemorySpanExporter()
    settings = http_settings(data_dir)
    telemetry = build_telemetry(settings, processors=[SimpleSpanProcessor(exporter)])
    try:
        async with running_app(settings, embedder, telemetry=telemetry) as (app, client):
            yield app, client, exporter
    finally:
        telemetry.shutdown()


async def spans_until(exporter: InMemorySpanExporter,
                      done: Callable[[Sequence[ReadableSpan]], bool]) -> list[ReadableSpan]:
    """The finished spans once ``done`` holds (spans of background work end a little later)."""
    for _ in range(200):
        spans = list(exporter.get_finished_spans())
        if done(spans):
            return spans
        await asyncio.sleep(0.05)
    names = sorted(s.name for s in exporter.get_finished_spans())
    pytest.fail(f"spans never completed; have {names}")


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{name}: {len(found)} spans"
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def trace_ids(spans: Sequence[ReadableSpan]) -> set[int]:
    return {s.context.trace_id for s in spans if s.context is not None}


async def test_one_question_is_one_trace_from_http_through_the_graph_to_index_and_sor(
    traced: Traced,
) -> None:
    _, client, exporter = traced
    exporter.clear()
    resp = await client.post("/v1/chat/stream", json={"message": "HP USB Optical 3-button Mouse"},
                             headers={"X-Client-Id": CLIENT})
    assert resp.status_code == 200
    spans = await spans_until(exporter, lambda ss: any(
        s.kind == SpanKind.SERVER and s.name == "POST /v1/chat/stream" for s in ss))

    server = one(spans, "POST /v1/chat/stream")
    agent = one(spans, "invoke_agent ShoppingAgent")
    assert parent_id(agent) == span_id(server)
    assert agent.attributes is not None and agent.attributes["gen_ai.operation.name"] == (
        "invoke_agent")
    nodes = {s.name: s for s in spans if s.name.startswith("node ")}
    assert {"node understand", "node retrieve", "node live_lookup", "node decide",
            "node respond"} <= set(nodes)
    assert all(parent_id(n) == span_id(agent) for n in nodes.values())
    index = [s for s in spans if s.name in ("index query", "index lookup")]
    assert index and all(parent_id(s) == span_id(nodes["node retrieve"]) for s in index)
    assert index[0].attributes is not None and index[0].attributes["db.system.name"] == "qdrant"
    sor = one(spans, "sor get_offers")
    assert parent_id(sor) == span_id(nodes["node live_lookup"])
    assert sor.attributes is not None and sor.attributes["shopkeeper.live.status"] == "ok"
    assert len(trace_ids([server, agent, sor, *nodes.values(), *index])) == 1
    exported = repr([dict(s.attributes or {}) for s in spans])
    assert CLIENT not in exported and "HP USB Optical" not in exported  # ids and words stay out


async def test_one_catalog_change_is_one_trace_from_the_webhook_to_the_index_ack(
    traced: Traced,
) -> None:
    app, client, exporter = traced
    sor = app.state.runtime.services.sor
    product = await sor.get_product_by_sku("demo", MOUSE_SKU)
    body = product.model_dump(mode="json", exclude={"tenant"})
    # Content changes, so the worker re-embeds (price or stock alone would be a payload patch).
    body["description"] = f"Refreshed 2027 edition. {body.get('description') or ''}"
    for s in body["skus"]:
        if s.get("title"):
            s["title"] = f"{s['title']} (2027 edition)"
    exporter.clear()
    resp = await client.post(
        "/v1/catalog/events",
        json=[{"id": "evt-trace-1", "entity": "product", "op": "upsert",
               "product_id": product.product_id, "version": 10**12, "product": body}],
        headers={"X-API-Key": INGEST_KEY, "traceparent": f"00-{SENT_TRACE}-{SENT_PARENT}-01"})
    assert resp.status_code == 202, resp.text
    want = int(SENT_TRACE, 16)
    assert await app.state.runtime.worker.drain(60), "the worker never caught up"

    def settled(ss: Sequence[ReadableSpan]) -> bool:
        """Every worker span of the change has ended, and so has the claim it belongs to."""
        ours = [s for s in ss if s.context is not None and s.context.trace_id == want]
        claim_ids = {span_id(s) for s in ours if s.name == "outbox claim"}
        work = [s for s in ours if s.name in ("sor read", "embed", "index write", "outbox ack")]
        return any(s.name == "embed" for s in work) and all(
            parent_id(s) in claim_ids for s in work)

    spans = await spans_until(exporter, settled)
    mine = [s for s in spans if s.context is not None and s.context.trace_id == want]

    server = one(mine, "POST /v1/catalog/events")
    assert parent_id(server) == int(SENT_PARENT, 16), "the sender's traceparent is the parent"
    commit = one(mine, "catalog commit")
    assert parent_id(commit) == span_id(server)
    claims = [s for s in mine if s.name == "outbox claim"]
    assert claims and all(parent_id(c) == span_id(commit) for c in claims), (
        "the outbox row carried the commit's context to the worker")
    claim_ids = {span_id(c) for c in claims}
    for name in ("sor read", "embed", "index write", "outbox ack"):
        found = [s for s in mine if s.name == name]
        assert found, f"no {name} span in the change's trace"
        assert all(parent_id(s) in claim_ids for s in found), name
    embed = next(s for s in mine if s.name == "embed")
    assert embed.attributes is not None and embed.attributes["gen_ai.operation.name"] == (
        "embeddings")
    assert any(c.attributes and c.attributes.get("shopkeeper.change.outcome") == "applied"
               for c in claims)
    assert INGEST_KEY not in repr([dict(s.attributes or {}) for s in spans])
