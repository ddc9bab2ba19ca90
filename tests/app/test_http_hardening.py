"""Issue 12's HTTP guards on a real uvicorn: keys before bodies, body limits before reading,
unknown tenants, errors that never echo the input, and the client id every shopper route
returns.

The server is the real app on a private copy of the demo subset. Oversized uploads are sent
over a raw socket: the server must answer 413 while most of the body is still unsent.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.http_support import (
    ASSIST_KEY,
    CLIENT,
    INGEST_KEY,
    LiveServer,
    fresh_copy,
    http_settings,
    live_server,
)

pytestmark = [pytest.mark.model, pytest.mark.slow]

KEYED = ["/v1/assist", "/v1/assist/stream", "/v1/agui", "/v1/catalog/events"]
MARKER = "Qz7markerQz7"
THIRTY_MB = 30 * 1024 * 1024


@pytest.fixture(scope="module")
def server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory,
           embedder: Any) -> Iterator[LiveServer]:
    data = fresh_copy(demo_data, tmp_path_factory.mktemp("hardening") / "data")
    with live_server(http_settings(data, WORKER_MODE="off"), embedder) as srv:
        yield srv


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def error_of(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert {"type", "message"} <= body["error"].keys(), body
    return body["error"]  # type: ignore[no-any-return]


# -- 6: authenticate, then validate ------------------------------------------------------------


@pytest.mark.parametrize("path", KEYED)
def test_keyed_routes_answer_401_before_they_look_at_the_body(
    client: httpx.Client, path: str
) -> None:
    json_headers = {"Content-Type": "application/json"}
    bodies = [b"{not json", json.dumps({"message": "x" * 30_000}).encode(), b"[]", b"{}"]
    for body in bodies:
        resp = client.post(path, content=body, headers=json_headers)
        assert resp.status_code == 401, (path, body[:20], resp.text)
        assert error_of(resp)["type"] == "unauthorized"
    wrong_kind = INGEST_KEY if path != "/v1/catalog/events" else ASSIST_KEY
    resp = client.post(path, content=b"{not json", headers={**json_headers,
                                                            "X-API-Key": wrong_kind})
    assert resp.status_code == 403
    right = ASSIST_KEY if path != "/v1/catalog/events" else INGEST_KEY
    resp = client.post(path, content=b"{not json", headers={**json_headers, "X-API-Key": right})
    assert resp.status_code == 422, "with the right key, the body is validated"


# -- 8: body limits ------------------------------------------------------------------------------


def _upload_head(server: LiveServer, path: str, headers: dict[str, str], declared: int,
                 sent: int) -> tuple[int, bytes]:
    """Declare ``declared`` bytes, send only ``sent`` of them, and read the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {declared}\r\n{head}\r\n".encode() + b"[" * sent)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize(("path", "headers"), [
    ("/v1/query", {"X-Client-Id": CLIENT}),
    ("/v1/catalog/events", {"X-API-Key": INGEST_KEY}),
    ("/v1/catalog/events", {}),
])
def test_a_30_mb_body_is_refused_before_it_is_read(
    server: LiveServer, path: str, headers: dict[str, str]
) -> None:
    status, body = _upload_head(server, path, headers, declared=THIRTY_MB, sent=65_536)
    assert status == 413, body
    assert json.loads(body)["error"]["type"] == "content_too_large"


def test_a_streamed_body_is_cut_off_at_the_limit(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        yield b'{"message": "'
        for _ in range(64):
            yield b"x" * 32_768
        yield b'"}'

    resp = client.post("/v1/query", content=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert "over the limit of 1,048,576 bytes" in error_of(resp)["message"]


# -- 5: unknown tenants --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body", "headers"), [
    ("/v1/query", {"message": "usb mouse", "tenant": MARKER}, {}),
    ("/v1/chat/stream", {"message": "usb mouse", "tenant": MARKER}, {}),
    ("/v1/chat/ui", {"id": "t-ui-1", "tenant": MARKER, "messages": [
        {"id": "m1", "role": "user", "parts": [{"type": "text", "text": "usb mouse"}]}]}, {}),
    ("/v1/assist", {"message": "usb mouse", "tenant": MARKER}, {"X-API-Key": ASSIST_KEY}),
])
def test_an_unknown_tenant_is_a_404_not_an_empty_answer(
    client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    resp = client.post(path, json=body, headers={"X-Client-Id": CLIENT, **headers})
    assert resp.status_code == 404, resp.text
    assert error_of(resp)["type"] == "unknown_tenant"
    assert MARKER not in resp.text
    known = client.post("/v1/query", json={"message": "usb mouse", "tenant": "demo"})
    assert known.status_code == 200


# -- 9: errors do not echo the input; the client id comes back ------------------------------------


def test_error_messages_do_not_echo_what_was_sent(client: httpx.Client) -> None:
    ingest = {"X-API-Key": INGEST_KEY}
    bad_currency = [{"id": "e-1", "op": "price", "sku": "122442",
                     "price": {"amount": "1.00", "currency": MARKER[:3].upper()}}]
    resp = client.post("/v1/catalog/events", json=bad_currency, headers=ingest)
    assert resp.status_code == 422
    assert resp.json()["rejected"][0]["index"] == 0
    assert "unknown currency" in resp.json()["rejected"][0]["reason"]
    assert f"'{MARKER[:3].upper()}'" not in resp.text

    not_a_list = client.post("/v1/catalog/events", json={"id": MARKER}, headers=ingest)
    assert not_a_list.status_code == 422
    assert not_a_list.json()["rejected"] == [] and MARKER not in not_a_list.text

    probes = [
        ("/v1/chat/stream", {"message": "hi", "thread_id": MARKER}, {"X-Client-Id": CLIENT}),
        ("/v1/query", {"message": "hi"}, {"X-Client-Id": f"bad id {MARKER}"}),
        ("/v1/chat/ui", {"id": "t-ui-2", "messages": [
            {"id": "m1", "role": "assistant", "parts": [{"type": "text", "text": MARKER}]}]},
         {"X-Client-Id": CLIENT}),
        ("/v1/assist", {"message": "hi", "history": [{"role": MARKER, "content": "x"}]},
         {"X-API-Key": ASSIST_KEY}),
    ]
    for path, body, headers in probes:
        resp = client.post(path, json=body, headers=headers)
        assert 400 <= resp.status_code < 500, (path, resp.text)
        assert MARKER not in resp.text, (path, resp.text)


def test_query_mints_a_client_id_like_the_stream(client: httpx.Client) -> None:
    minted = client.post("/v1/query", json={"message": "usb mouse"})
    assert minted.status_code == 200 and minted.headers["x-client-id"].startswith("anon-")
    kept = client.post("/v1/query", json={"message": "usb mouse"},
                       headers={"X-Client-Id": CLIENT})
    assert kept.headers["x-client-id"] == CLIENT
