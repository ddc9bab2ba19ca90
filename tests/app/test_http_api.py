"""The HTTP API end to end: real app, agent, worker, SoR and index on a small demo subset.

SSE streams are parsed event by event; every live figure on a card is compared with the SoR.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from agents.schemas import Answer
from tests.http_support import (
    ASSIST_KEY,
    CLIENT,
    INGEST_KEY,
    OTHER_CLIENT,
    fresh_copy,
    http_settings,
    metric,
    parse_sse,
    running_app,
)

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

MOUSE_SKU = "122442"  # "HP USB Optical 3-button Mouse" in the demo subset
Api = tuple[FastAPI, httpx.AsyncClient]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Path:
    return fresh_copy(demo_data, tmp_path_factory.mktemp("api") / "data")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(data_dir: Path, embedder: Any) -> Any:
    async with running_app(http_settings(data_dir), embedder) as pair:
        yield pair


async def chat(client: httpx.AsyncClient, message: str, client_id: str | None = CLIENT,
               **body: Any) -> httpx.Response:
    headers = {"X-Client-Id": client_id} if client_id else {}
    return await client.post("/v1/chat/stream", json={"message": message, **body}, headers=headers)


def of(events: list[tuple[str, dict[str, Any]]], kind: str) -> list[dict[str, Any]]:
    return [data for t, data in events if t == kind]


async def assert_live(app: FastAPI, cards: list[dict[str, Any]]) -> None:
    """Every card's price and stock equal the SoR's right now."""
    sor = app.state.runtime.services.sor
    offers = await sor.get_offers("demo", [c["sku"] for c in cards])
    for card in cards:
        offer = offers[card["sku"]]
        assert Decimal(card["price"]) == offer.price.amount
        assert card["currency"] == offer.price.currency
        assert card["quantity"] == offer.stock.quantity
        assert card["availability"] == offer.stock.availability
        assert card["as_of"], "each card says when its live figures were read"


async def test_chat_stream_sends_fixed_events_in_order(api: Api) -> None:
    app, client = api
    resp = await chat(client, "wireless mouse")

    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["x-client-id"] == CLIENT
    assert resp.headers["cache-control"] == "no-store"
    events = parse_sse(resp.text)
    types = [t for t, _ in events]
    assert types[0] == "meta" and types[-1] == "done"
    assert set(types) == {"meta", "status", "products", "token", "done"}
    at = types.index("products")
    assert types.count("products") == 1
    assert all(t == "status" for t in types[1:at])
    assert all(t == "token" for t in types[at + 1 : -1]) and at + 1 < len(types) - 1

    meta, done = events[0][1], events[-1][1]
    assert meta["thread_id"] and meta["request_id"]
    assert (done["thread_id"], done["request_id"]) == (meta["thread_id"], meta["request_id"])
    nodes = [s["node"] for s in of(events, "status")]
    assert nodes[:4] == ["understand", "pages", "retrieve", "live_lookup"]
    assert "".join(t["text"] for t in of(events, "token")) == done["text"]
    cards = of(events, "products")[0]["products"]
    assert cards and any("mouse" in c["title"].lower() for c in cards)
    await assert_live(app, cards)
    assert all(c["stock_synthetic"] for c in cards), "demo stock is flagged synthetic"


async def test_thread_resumes_by_id_and_only_its_owner_sees_it(api: Api) -> None:
    _, client = api
    first = parse_sse((await chat(client, "usb mouse")).text)
    thread = first[0][1]["thread_id"]

    second = parse_sse((await chat(client, "which one is cheapest?", thread_id=thread)).text)
    assert second[0][1]["thread_id"] == thread and second[-1][0] == "done"

    mine = await client.get(f"/v1/threads/{thread}", headers={"X-Client-Id": CLIENT})
    assert mine.status_code == 200
    body = mine.json()
    assert body["thread_id"] == thread and body["count"] == 4
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"] * 2
    assert body["messages"][0]["content"] == "usb mouse"

    theirs = await client.get(f"/v1/threads/{thread}", headers={"X-Client-Id": OTHER_CLIENT})
    assert theirs.status_code == 403
    assert theirs.json()["error"]["type"] == "forbidden"
    hijack = await chat(client, "and in red?", client_id=OTHER_CLIENT, thread_id=thread)
    assert hijack.status_code == 403, "resuming someone else's thread is refused before streaming"
    assert hijack.headers["content-type"].startswith("application/json")

    missing = await client.get("/v1/threads/no-such-thread", headers={"X-Client-Id": CLIENT})
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"
    resume_missing = await chat(client, "hello again", thread_id="no-such-thread")
    assert resume_missing.status_code == 404


async def test_a_client_without_an_id_gets_one_minted_that_owns_its_thread(api: Api) -> None:
    _, client = api
    resp = await chat(client, "hdmi cable", client_id=None)
    minted = resp.headers["x-client-id"]
    assert resp.status_code == 200 and minted.startswith("anon-")
    thread = parse_sse(resp.text)[0][1]["thread_id"]
    owned = await client.get(f"/v1/threads/{thread}", headers={"X-Client-Id": minted})
    assert owned.status_code == 200
    assert (await client.get(f"/v1/threads/{thread}")).status_code == 403


async def test_query_returns_a_json_answer_with_live_products_and_citations(api: Api) -> None:
    app, client = api
    resp = await client.post("/v1/query", json={"message": "hp ink cartridge under $30"},
                             headers={"X-Client-Id": CLIENT})
    assert resp.status_code == 200
    answer = Answer.model_validate(resp.json())
    assert answer.text and answer.products
    assert all(Decimal(p.price or "0") <= 30 for p in answer.products)
    await assert_live(app, [p.model_dump(mode="json") for p in answer.products])
    assert {(c.field, c.source) for c in answer.citations} >= {("price", "sor"), ("stock", "sor")}


async def test_assist_stream_carries_evidence_with_warehouses_and_a_step_trace(api: Api) -> None:
    app, client = api
    history = [{"role": "customer", "content": "I need a mouse for my office"},
               {"role": "agent", "content": "Sure: wired or wireless?"}]
    resp = await client.post(
        "/v1/assist/stream",
        json={"message": "USB please, is the HP one in stock?", "history": history},
        headers={"Authorization": f"Bearer {ASSIST_KEY}"},
    )
    assert resp.status_code == 200
    events = parse_sse(resp.text)
    assert events[0][0] == "meta" and events[0][1]["mode"] == "assist"
    done = events[-1][1]
    assert events[-1][0] == "done" and done["text"]
    assert [t["node"] for t in done["trace"]][:3] == ["understand", "pages", "retrieve"]
    shown = [e for e in done["evidence"] if e["shown"]]
    assert shown and all(e["live"]["warehouses"] for e in shown)
    offers = await app.state.runtime.services.sor.get_offers("demo", [e["sku"] for e in shown])
    for e in shown:
        assert Decimal(e["live"]["price"]) == offers[e["sku"]].price.amount
        assert e["live"]["warehouses"] == offers[e["sku"]].stock.warehouses


async def test_assist_json_answer(api: Api) -> None:
    _, client = api
    resp = await client.post("/v1/assist", json={"message": "hp ink cartridge for my printer"},
                             headers={"X-API-Key": ASSIST_KEY})
    assert resp.status_code == 200
    answer = Answer.model_validate(resp.json())
    assert answer.text and answer.evidence and answer.trace


async def test_webhook_applies_a_price_change_that_the_next_answer_shows(api: Api) -> None:
    app, client = api
    event = {"id": "evt-price-1", "op": "price", "sku": MOUSE_SKU, "version": 10**12,
             "price": {"amount": "15.49", "currency": "USD"}}
    resp = await client.post("/v1/catalog/events", json=[event],
                             headers={"Authorization": f"Bearer {INGEST_KEY}"})
    assert resp.status_code == 202
    assert resp.json() == {"accepted": ["evt-price-1"], "count": 1,
                           "outcomes": {"evt-price-1": "applied"}}
    services = app.state.runtime.services
    offers = await services.sor.get_offers("demo", [MOUSE_SKU])
    assert offers[MOUSE_SKU].price.amount == Decimal("15.49")

    # The in-process worker follows the outbox: the index's coarse price catches up too.
    for _ in range(100):
        state = services.index.states("demo", [MOUSE_SKU]).get(MOUSE_SKU)
        if state is not None and state.price == 15.49:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the index never saw the new price")

    events = parse_sse((await chat(client, "HP USB Optical 3-button Mouse")).text)
    cards = {c["sku"]: c for c in of(events, "products")[0]["products"]}
    assert cards[MOUSE_SKU]["price"] == "15.49"


async def test_webhook_batch_is_all_or_nothing_with_a_reason_per_event(api: Api) -> None:
    app, client = api
    before = (await app.state.runtime.services.sor.get_offers("demo", [MOUSE_SKU]))[MOUSE_SKU]
    batch = [
        {"id": "ok-1", "op": "price", "sku": MOUSE_SKU, "price": {"amount": "1.00"}},
        {"id": "bad-1", "op": "price", "sku": MOUSE_SKU},
    ]
    resp = await client.post("/v1/catalog/events", json=batch, headers={"X-API-Key": INGEST_KEY})
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"]["type"] == "invalid_event"
    assert [(r["index"], r["id"]) for r in body["rejected"]] == [(1, "bad-1")]
    assert "price" in body["rejected"][0]["reason"]
    after = (await app.state.runtime.services.sor.get_offers("demo", [MOUSE_SKU]))[MOUSE_SKU]
    assert after.price == before.price, "nothing of a rejected batch is applied"

    shape = await client.post("/v1/catalog/events", json=[{"id": "x", "op": "teleport"}],
                              headers={"X-API-Key": INGEST_KEY})
    assert shape.status_code == 422
    assert shape.json()["error"]["details"][0]["field"].startswith("0.op")
    not_a_list = await client.post("/v1/catalog/events", json={"id": "x"},
                                   headers={"X-API-Key": INGEST_KEY})
    assert not_a_list.status_code == 422


async def test_webhook_event_for_an_unknown_sku_is_dead_lettered(api: Api) -> None:
    _, client = api
    event = {"id": "evt-ghost", "op": "stock", "sku": "no-such-sku", "stock": {"quantity": 3}}
    resp = await client.post("/v1/catalog/events", json=[event], headers={"X-API-Key": INGEST_KEY})
    assert resp.status_code == 202
    assert resp.json()["outcomes"] == {"evt-ghost": "dead_lettered"}


async def test_health_readiness_and_metrics(api: Api) -> None:
    _, client = api
    assert (await client.get("/healthz")).json() == {"status": "ok"}

    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"]["index"]["ok"] and body["checks"]["sor"]["ok"]
    assert int(body["checks"]["index"]["detail"].split()[0]) >= 300
    assert body["worker"]["running"] is True and "lag_seconds" in body["worker"]
    assert {"queue_depth", "dlq_size"} <= body["worker"].keys()

    await chat(client, "usb flash drive")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert metric(text, "shopkeeper_http_requests_total",
                  route="/v1/chat/stream", method="POST", status="200") >= 1
    assert metric(text, "shopkeeper_sse_streams_total", outcome="done") >= 1
    assert metric(text, "shopkeeper_sse_streams_active") == 0
    assert "shopkeeper_sse_first_event_seconds_bucket" in text
    assert "shopkeeper_worker" in text, "the worker's series share the app's registry"


async def test_openapi_lists_every_endpoint_with_examples(api: Api) -> None:
    _, client = api
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in ("/v1/chat/stream", "/v1/query", "/v1/assist", "/v1/assist/stream",
                 "/v1/threads/{thread_id}", "/v1/catalog/events",
                 "/healthz", "/readyz", "/metrics"):
        assert path in paths, path
    stream = paths["/v1/chat/stream"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    assert "event: meta" in stream["example"]
    query_ok = paths["/v1/query"]["post"]["responses"]["200"]["content"]["application/json"]
    assert "example" in query_ok
    schemas = spec["components"]["schemas"]
    assert schemas["ChatIn"]["properties"]["message"]["examples"]
    assert schemas["WebhookEvent"]["examples"]
    assert {"HTTPBearer", "APIKeyHeader"} <= spec["components"]["securitySchemes"].keys()


async def test_an_unexpected_error_is_a_generic_500_without_a_traceback(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    app, client = api

    async def broken() -> None:
        raise RuntimeError("secret internals: /etc/passwd")

    app.add_api_route("/test/broken", broken)
    with caplog.at_level(logging.ERROR, logger="shopkeeper.http"):
        resp = await client.get("/test/broken")
    assert resp.status_code == 500
    assert resp.json() == {"error": {"type": "internal_error",
                                     "message": "internal server error; it has been logged"}}
    assert "Traceback" not in resp.text and "secret" not in resp.text
    assert any(r.exc_info for r in caplog.records), "the full error is logged server-side"

    unknown = await client.get("/no/such/page")
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found"


async def test_readyz_is_503_when_the_sor_is_down(
    tmp_path: Path, demo_data: Path, embedder: Any
) -> None:
    fresh = fresh_copy(demo_data, tmp_path / "data")
    async with running_app(http_settings(fresh, WORKER_MODE="off"), embedder) as (app, client):
        await app.state.runtime.services.sor.close()
        resp = await client.get("/readyz")
        assert resp.status_code == 503
        body = resp.json()
        assert body["status"] == "not_ready" and not body["checks"]["sor"]["ok"]
        assert body["checks"]["index"]["ok"]
        webhook = await client.post("/v1/catalog/events", json=[{"id": "a", "op": "delete",
                                                                 "sku": "x"}],
                                    headers={"X-API-Key": INGEST_KEY})
        assert webhook.status_code == 503, "no worker (WORKER_MODE=off): the webhook says so"
        assert "SHOPKEEPER_WORKER_MODE" in webhook.json()["error"]["message"]


async def test_a_policy_question_cites_its_store_page_over_json_sse_and_the_ui_stream(
    api: Api
) -> None:
    _, client = api
    resp = await client.post("/v1/query", json={"message": "What is your return policy?"},
                             headers={"X-Client-Id": CLIENT})
    assert resp.status_code == 200
    answer = Answer.model_validate(resp.json())
    assert answer.products == []
    assert [(s.page_id, s.anchor) for s in answer.sources] == [("returns", "return-policy")]
    assert answer.sources[0].text in answer.text

    events = parse_sse((await chat(client, "Do you deliver abroad?")).text)
    done = events[-1][1]
    assert of(events, "products")[0]["products"] == []
    assert [s["anchor"] for s in done["sources"]] == ["delivery-abroad"]

    ui = await client.post("/v1/chat/ui", headers={"X-Client-Id": CLIENT}, json={
        "id": "chat-store-pages-1", "messages": [{"id": "m1", "role": "user",
                      "parts": [{"type": "text", "text": "Can I pay with PayPal?"}]}]})
    assert ui.status_code == 200
    assert ui.text.rstrip().endswith("data: [DONE]")
    parts = [p for t, p in parse_sse(ui.text.rstrip().removesuffix("data: [DONE]"))]
    urls = [p for p in parts if p.get("type") == "source-url"]
    assert [p["url"] for p in urls] == ["/store/pages/payment#accepted-payment-methods"]
    assert [p["type"] for p in parts][-1] == "finish"

    page = await client.get("/store/pages/payment")
    assert page.status_code == 200
    assert 'id="accepted-payment-methods"' in page.text and "Demo page" in page.text
    assert "<!--" not in page.text
    for missing in ("/store/pages/nope", "/store/pages/..%2Fsettings"):
        assert (await client.get(missing)).status_code == 404
