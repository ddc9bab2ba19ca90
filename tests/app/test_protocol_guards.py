"""The new protocol routes keep every guard of the API: ownership, limits, keys, error shape.

``/v1/chat/ui`` (AI SDK), ``/v1/agui`` (AG-UI) and ``/mcp`` answer 401/403/404/422/429 with the
project's ``{"error": {type, message}}`` body, before any stream starts. The clients' own
behaviour is proven in ``test_protocol_clients.py`` and ``test_protocol_mcp.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.settings import hash_key
from tests.http_support import (
    ASSIST_KEY,
    CLIENT,
    INGEST_KEY,
    OTHER_CLIENT,
    fresh_copy,
    http_settings,
    running_app,
)

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

Api = tuple[FastAPI, httpx.AsyncClient]
MAX_CHARS, MAX_HISTORY = 200, 3
OTHER_ASSIST_KEY = "test-assist-key-other-9876543210"
MINE = {"X-Client-Id": CLIENT}
THEIRS = {"X-Client-Id": OTHER_CLIENT}
AGENT = {"X-API-Key": ASSIST_KEY}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(demo_data: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    data = fresh_copy(demo_data, tmp_path_factory.mktemp("guards") / "data")
    settings = http_settings(
        data, MAX_MESSAGE_CHARS=MAX_CHARS, MAX_HISTORY_MESSAGES=MAX_HISTORY, WORKER_MODE="off",
        ASSIST_API_KEY_HASHES=[hash_key(ASSIST_KEY), hash_key(OTHER_ASSIST_KEY)])
    async with running_app(settings, embedder) as pair:
        yield pair


def error_of(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert {"type", "message"} <= body["error"].keys() and "Traceback" not in resp.text
    return body["error"]  # type: ignore[no-any-return]


def ui(chat_id: str, text: str, *, replied: bool = False) -> dict[str, Any]:
    earlier = [{"id": "u0", "role": "user", "parts": [{"type": "text", "text": "usb drive"}]},
               {"id": "a0", "role": "assistant", "parts": [{"type": "text", "text": "$1.00!"}]}]
    last = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}
    return {"id": chat_id, "messages": [*(earlier if replied else []), last],
            "trigger": "submit-message"}


def agui(thread: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"threadId": thread, "runId": "r-1", "state": {}, "tools": [], "context": [],
            "forwardedProps": {},
            "messages": [{"id": "u1", "role": "user", "content": text}], **extra}


# -- /v1/chat/ui ---------------------------------------------------------------------------------


async def test_ui_stream_speaks_v1_and_owns_its_thread(api: Api) -> None:
    _, client = api
    first = await client.post("/v1/chat/ui", json=ui("chat-guard-1", "usb flash drive"),
                              headers=MINE)
    assert first.status_code == 200
    assert first.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert first.headers["content-type"].startswith("text/event-stream")
    assert first.text.rstrip().endswith("data: [DONE]")

    # The pasted assistant turn ("$1.00!") is never read: the thread's own memory is.
    again = await client.post("/v1/chat/ui", json=ui("chat-guard-1", "cheaper?", replied=True),
                              headers=MINE)
    assert again.status_code == 200 and "$1.00" not in again.text

    stolen = await client.post("/v1/chat/ui", json=ui("chat-guard-1", "hi", replied=True),
                               headers=THEIRS)
    assert error_of(stolen, 403)["type"] == "forbidden"
    lost = await client.post("/v1/chat/ui", json=ui("chat-never-was", "hi", replied=True),
                             headers=MINE)
    assert error_of(lost, 404)["type"] == "not_found"


@pytest.mark.parametrize(("body", "field"), [
    (ui("chat-x", "x" * (MAX_CHARS + 1)), "over the limit"),
    (ui("chat-x", "   "), "empty"),
    (ui("bad id!", "usb"), "id"),
    ({"id": "chat-x", "messages": []}, "messages"),
    ({"id": "chat-x", "messages": [{"id": "a", "role": "assistant", "parts": []}]}, "user"),
    ({"messages": [{"id": "u", "role": "user", "parts": []}]}, "id"),
])
async def test_ui_stream_refuses_bad_bodies_with_422(
    api: Api, body: dict[str, Any], field: str
) -> None:
    _, client = api
    err = error_of(await client.post("/v1/chat/ui", json=body, headers=MINE), 422)
    assert field in err["message"]


# -- /v1/agui ------------------------------------------------------------------------------------


async def test_agui_needs_an_agent_key_and_owns_its_thread(api: Api) -> None:
    _, client = api
    body = agui("agui-guard-1", "is the HP optical mouse in stock?")
    assert error_of(await client.post("/v1/agui", json=body), 401)["type"] == "unauthorized"
    assert error_of(await client.post("/v1/agui", json=body, headers={"X-API-Key": INGEST_KEY}),
                    403)["type"] == "forbidden"
    ok = await client.post("/v1/agui", json=body, headers=AGENT)
    assert ok.status_code == 200 and '"type":"RUN_FINISHED"' in ok.text
    assert '"RAW"' not in ok.text and '"STATE_SNAPSHOT"' in ok.text

    other_agent = {"X-API-Key": OTHER_ASSIST_KEY}
    assert error_of(await client.post("/v1/agui", json=body, headers=other_agent), 403)
    replied = agui("agui-never-was", "hi", state={"thread_id": "agui-never-was"})
    assert error_of(await client.post("/v1/agui", json=replied, headers=AGENT), 404)


@pytest.mark.parametrize(("body", "field"), [
    (agui("agui-x", "x" * (MAX_CHARS + 1)), "over the limit"),
    (agui("bad id!", "hi"), "threadId"),
    (agui("agui-x", "hi", messages=[]), "messages"),
    (agui("agui-x", "hi", messages=[{"id": f"m{i}", "role": "user", "content": "a"}
                                    for i in range(MAX_HISTORY + 2)]), "earlier messages"),
    (agui("agui-x", "hi", forwardedProps={"tenant": "x" * 65}), "tenant"),
    ({"threadId": "agui-x"}, "messages"),
])
async def test_agui_refuses_bad_bodies_with_422(
    api: Api, body: dict[str, Any], field: str
) -> None:
    _, client = api
    err = error_of(await client.post("/v1/agui", json=body, headers=AGENT), 422)
    assert field in err["message"]


# -- /mcp ----------------------------------------------------------------------------------------


async def test_mcp_refuses_a_bad_tenant_and_plain_get(api: Api) -> None:
    _, client = api
    err = error_of(await client.post("/mcp?tenant=" + "x" * 65, json={}), 422)
    assert err["type"] == "validation_error"
    assert error_of(await client.get("/mcp"), 405)["type"] == "method_not_allowed"


async def test_rate_limit_holds_on_every_new_route(
    demo_data: Path, tmp_path: Path, embedder: Any
) -> None:
    data = fresh_copy(demo_data, tmp_path / "data")
    async with running_app(http_settings(data, RATE_LIMIT_PER_MIN=2, WORKER_MODE="off"),
                           embedder) as (_, client):
        for path, body, headers in (
            ("/v1/chat/ui", ui("chat-rl", "usb"), {"X-Client-Id": "client-rate-ui"}),
            ("/v1/agui", agui("agui-rl", "usb"), AGENT),
            ("/mcp", {"jsonrpc": "2.0", "id": 1, "method": "ping"},
             {"X-Client-Id": "client-rate-mcp"}),
        ):
            codes = [(await client.post(path, json=body, headers=headers)).status_code
                     for _ in range(2)]
            assert 429 not in codes, path
            limited = await client.post(path, json=body, headers=headers)
            assert error_of(limited, 429)["type"] == "rate_limited"
            assert int(limited.headers["retry-after"]) >= 1
