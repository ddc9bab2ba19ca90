"""API keys (401/403), the CORS allow-list, the per-client rate limit and the size limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from tests.http_support import (
    ASSIST_KEY,
    CLIENT,
    INGEST_KEY,
    OTHER_CLIENT,
    SHOP_ORIGIN,
    fresh_copy,
    http_settings,
    metric,
    running_app,
)

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

Api = tuple[FastAPI, httpx.AsyncClient]
MAX_CHARS, MAX_HISTORY = 200, 3
PRICE_EVENT = [{"id": "sec-1", "op": "price", "sku": "122442", "price": {"amount": "17.95"}}]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(demo_data: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    data = fresh_copy(demo_data, tmp_path_factory.mktemp("security") / "data")
    settings = http_settings(data, MAX_MESSAGE_CHARS=MAX_CHARS, MAX_HISTORY_MESSAGES=MAX_HISTORY)
    async with running_app(settings, embedder) as pair:
        yield pair


def error_of(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) >= {"error"} and {"type", "message"} <= body["error"].keys()
    assert "Traceback" not in resp.text
    return body["error"]  # type: ignore[no-any-return]


# -- API keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/assist", "/v1/assist/stream"])
async def test_assist_needs_an_agent_key(api: Api, path: str) -> None:
    _, client = api
    body = {"message": "is the hp mouse in stock?"}

    missing = await client.post(path, json=body)
    assert missing.status_code == 401
    assert error_of(missing)["type"] == "unauthorized"
    assert "Authorization: Bearer" in error_of(missing)["message"]

    wrong = await client.post(path, json=body, headers={"Authorization": "Bearer not-a-key"})
    assert wrong.status_code == 401

    other_scope = await client.post(path, json=body, headers={"X-API-Key": INGEST_KEY})
    assert other_scope.status_code == 403
    assert error_of(other_scope)["type"] == "forbidden"

    for headers in ({"Authorization": f"Bearer {ASSIST_KEY}"}, {"X-API-Key": ASSIST_KEY}):
        ok = await client.post(path, json=body, headers=headers)
        assert ok.status_code == 200, ok.text


async def test_webhook_needs_an_ingest_key(api: Api) -> None:
    _, client = api
    assert (await client.post("/v1/catalog/events", json=PRICE_EVENT)).status_code == 401
    assert (await client.post("/v1/catalog/events", json=PRICE_EVENT,
                              headers={"X-API-Key": "guess"})).status_code == 401
    agent_key = await client.post("/v1/catalog/events", json=PRICE_EVENT,
                                  headers={"Authorization": f"Bearer {ASSIST_KEY}"})
    assert agent_key.status_code == 403
    ok = await client.post("/v1/catalog/events", json=PRICE_EVENT,
                           headers={"Authorization": f"Bearer {INGEST_KEY}"})
    assert ok.status_code == 202


async def test_no_configured_keys_means_no_access_and_says_which_setting(
    demo_data: Path, tmp_path: Path, embedder: Any
) -> None:
    data = fresh_copy(demo_data, tmp_path / "data")
    settings = http_settings(data, ASSIST_API_KEY_HASHES=[], WORKER_MODE="off")
    async with running_app(settings, embedder) as (_, client):
        resp = await client.post("/v1/assist", json={"message": "hi"},
                                 headers={"X-API-Key": ASSIST_KEY})
        assert resp.status_code == 401
        assert "SHOPKEEPER_ASSIST_API_KEY_HASHES" in error_of(resp)["message"]
        assert "shopkeeper keys new --kind assist" in error_of(resp)["message"]
        # Without keys nothing is read first: a malformed body gets the same how-to.
        broken = await client.post("/v1/assist", content=b"{", headers={
            "Content-Type": "application/json"})
        assert broken.status_code == 401 and "keys new" in error_of(broken)["message"]


# -- CORS ------------------------------------------------------------------------------------------


async def test_cors_allows_the_listed_shop_origin(api: Api) -> None:
    _, client = api
    pre = await client.options("/v1/chat/stream", headers={
        "Origin": SHOP_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-client-id",
    })
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == SHOP_ORIGIN
    assert "x-client-id" in pre.headers["access-control-allow-headers"].lower()

    resp = await client.post("/v1/chat/stream", json={"message": "usb cable"},
                             headers={"Origin": SHOP_ORIGIN, "X-Client-Id": CLIENT})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == SHOP_ORIGIN
    assert "x-client-id" in resp.headers["access-control-expose-headers"].lower()


async def test_cors_refuses_other_origins(api: Api) -> None:
    _, client = api
    evil = "https://evil.example"
    pre = await client.options("/v1/chat/stream", headers={
        "Origin": evil, "Access-Control-Request-Method": "POST",
    })
    assert pre.status_code == 400
    assert "access-control-allow-origin" not in pre.headers

    resp = await client.post("/v1/query", json={"message": "usb cable"},
                             headers={"Origin": evil, "X-Client-Id": CLIENT})
    assert "access-control-allow-origin" not in resp.headers, "the browser will block the read"


# -- size limits -----------------------------------------------------------------------------------


async def test_message_and_history_limits_are_clear_422s(api: Api) -> None:
    _, client = api
    long = "x" * (MAX_CHARS + 1)
    for path, headers in (("/v1/chat/stream", {}), ("/v1/query", {}),
                          ("/v1/assist", {"X-API-Key": ASSIST_KEY})):
        resp = await client.post(path, json={"message": long}, headers=headers)
        assert resp.status_code == 422, path
        err = error_of(resp)
        assert err["type"] == "invalid_input"
        assert f"{MAX_CHARS + 1} characters is over the limit of {MAX_CHARS}" in err["message"]

    blank = await client.post("/v1/chat/stream", json={"message": "   "})
    assert blank.status_code == 422 and "empty" in error_of(blank)["message"]
    missing = await client.post("/v1/chat/stream", json={})
    assert missing.status_code == 422
    assert error_of(missing)["type"] == "validation_error"
    assert error_of(missing)["details"][0]["field"] == "message"

    history = [{"role": "customer", "content": f"turn {i}"} for i in range(MAX_HISTORY + 1)]
    too_many = await client.post("/v1/assist", json={"message": "hi", "history": history},
                                 headers={"X-API-Key": ASSIST_KEY})
    assert too_many.status_code == 422
    assert f"{MAX_HISTORY + 1} messages is over the limit of {MAX_HISTORY}" in error_of(too_many)[
        "message"]
    long_turn = [{"role": "customer", "content": long}]
    assert (await client.post("/v1/assist", json={"message": "hi", "history": long_turn},
                              headers={"X-API-Key": ASSIST_KEY})).status_code == 422

    bad_client = await client.post("/v1/query", json={"message": "usb"},
                                   headers={"X-Client-Id": "no spaces allowed"})
    assert bad_client.status_code == 422
    assert error_of(bad_client)["details"][0]["field"] == "X-Client-Id"


# -- rate limit ------------------------------------------------------------------------------------


async def test_rate_limit_is_per_client_with_retry_after(
    demo_data: Path, tmp_path: Path, embedder: Any
) -> None:
    data = fresh_copy(demo_data, tmp_path / "data")
    async with running_app(http_settings(data, RATE_LIMIT_PER_MIN=3, WORKER_MODE="off"),
                           embedder) as (app, client):
        mine = {"X-Client-Id": CLIENT}
        codes = [(await client.get("/v1/threads/t-none", headers=mine)).status_code
                 for _ in range(3)]
        assert codes == [404, 404, 404]

        limited = await client.get("/v1/threads/t-none", headers=mine)
        assert limited.status_code == 429
        assert error_of(limited)["type"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 20  # one token refills in 20 s

        other = await client.get("/v1/threads/t-none", headers={"X-Client-Id": OTHER_CLIENT})
        assert other.status_code == 404, "another client has its own bucket"
        assert (await client.get("/healthz")).status_code == 200, "ops endpoints are not limited"

        text = (await client.get("/metrics")).text
        assert metric(text, "shopkeeper_http_rate_limited_total") == 1
        assert app.state.runtime.limiter is not None
