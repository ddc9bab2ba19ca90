"""The AI SDK and AG-UI protocols, driven by their own clients in Node (``tests/app/js``).

``ai``'s ``Chat`` + ``DefaultChatTransport`` (what ``useChat`` runs) and ``@ag-ui/client``'s
``HttpAgent`` talk to a real uvicorn on loopback; each Node test asserts what its client
assembled, and writes it out so this side can compare every price with the system of record.
``scripts/test`` installs the pinned packages (``npm ci``) first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.http_support import (
    ASSIST_KEY,
    LiveServer,
    fresh_copy,
    http_settings,
    live_server,
    sor_call,
)

pytestmark = [pytest.mark.model, pytest.mark.slow]

JS = Path(__file__).parent / "js"
TEMPLATE = "https://shop.example/p/{sku}"


@pytest.fixture(scope="module")
def server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory,
           embedder: Any) -> Iterator[tuple[LiveServer, Settings]]:
    data = fresh_copy(demo_data, tmp_path_factory.mktemp("clients") / "data")
    settings = http_settings(data, PRODUCT_URL_TEMPLATE=TEMPLATE)
    with live_server(settings, embedder) as srv:
        yield srv, settings


def node_test(script: str, url: str, out: Path) -> None:
    """Run one ``node --test`` file against the server; its assertions must all pass."""
    node = shutil.which("node")
    assert node, "Node 20+ is needed for the protocol client tests"
    assert (JS / "node_modules" / "ai").exists(), (
        "the JS clients are not installed: npm ci --prefix tests/app/js (scripts/test does it)")
    env = {**os.environ, "SHOPKEEPER_URL": url, "SHOPKEEPER_OUT": str(out),
           "SHOPKEEPER_ASSIST_KEY": ASSIST_KEY}
    done = subprocess.run([node, "--test", "--test-concurrency=1", script], cwd=JS, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]


def sor_prices(settings: Settings, skus: list[str]) -> dict[str, tuple[str, str]]:
    offers = sor_call(settings, "get_offers", "demo", skus)
    return {s: (str(o.price.amount), o.price.currency) for s, o in offers.items()}


def test_ai_sdk_chat_over_two_turns_shows_the_sors_prices(
    server: tuple[LiveServer, Settings], tmp_path: Path
) -> None:
    srv, settings = server
    out = tmp_path / "ui.json"
    node_test("ui_stream.test.mjs", srv.url, out)
    got = json.loads(out.read_text())
    answers = [m for m in got["messages"] if m["role"] == "assistant"]
    assert len(answers) == 2
    cards = [p["data"] for m in answers for p in m["parts"] if p["type"] == "data-product"]
    live = sor_prices(settings, [c["sku"] for c in cards])
    assert cards and all((c["price"], c["currency"]) == live[c["sku"]] for c in cards)
    assert all(c["url"] == TEMPLATE.format(sku=c["sku"]) for c in cards)
    first_text = "".join(p["text"] for p in answers[0]["parts"] if p["type"] == "text")
    assert live[cards[0]["sku"]][0].rstrip("0").rstrip(".") in first_text.replace(",", "")

    # The server kept one thread for the chat id, owned by the Node client's X-Client-Id.
    thread = httpx.get(f"{srv.url}/v1/threads/{got['chatId']}",
                       headers={"X-Client-Id": got["clientId"]}).json()
    assert [m["role"] for m in thread["messages"]] == ["user", "assistant"] * 2


def test_ag_ui_http_agent_gets_ordered_events_and_the_evidence(
    server: tuple[LiveServer, Settings], tmp_path: Path
) -> None:
    srv, settings = server
    out = tmp_path / "agui.json"
    node_test("agui.test.mjs", srv.url, out)
    state = json.loads(out.read_text())["state"]
    shown = [e for e in state["evidence"] if e["shown"]]
    live = sor_prices(settings, [e["sku"] for e in shown])
    assert shown and all((e["live"]["price"], e["live"]["currency"]) == live[e["sku"]]
                         for e in shown)
    offers = sor_call(settings, "get_offers", "demo", [e["sku"] for e in shown])
    assert all(e["live"]["warehouses"] == offers[e["sku"]].stock.warehouses for e in shown)
    assert [c["sku"] for c in state["products"]] == [e["sku"] for e in shown]
