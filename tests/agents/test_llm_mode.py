"""LLM mode over real HTTP, against a local OpenAI-compatible STAND-IN server on loopback.

No hosted model is reachable from CI or this sandbox, so a tiny ``http.server`` app plays the
model: it serves ``POST /v1/chat/completions`` with streamed SSE chunks and follows a script
(tool calls, then streamed text). The agent talks to it through ``langchain_openai.ChatOpenAI``
exactly as it would talk to a hosted model. One scripted reply states a wrong price, which the
verify node must catch and replace with the grounded answer.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agents.schemas import AgentRequest
from tests.fixtures_demo import demo_settings_for

pytestmark = pytest.mark.model


class StandIn(ThreadingHTTPServer):
    """The scripted model: each request pops the next reply; every request body is kept."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.fail = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 0,
            "model": "stand-in", "choices": [{"index": 0, "delta": delta,
                                              "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        if self.server.fail or self.path != "/v1/chat/completions":
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "stand-in is down"}}')
            return
        reply = self.server.script.pop(0) if self.server.script else {"text": "No script left."}
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(_chunk({"role": "assistant", "content": ""}))
        if "tool" in reply:
            name, args = reply["tool"]
            self.wfile.write(_chunk({"tool_calls": [{
                "index": 0, "id": f"call_{len(self.server.requests)}", "type": "function",
                "function": {"name": name, "arguments": ""}}]}))
            encoded = json.dumps(args)
            for i in range(0, len(encoded), 7):  # arguments arrive in pieces, as from a model
                self.wfile.write(_chunk({"tool_calls": [{
                    "index": 0, "function": {"arguments": encoded[i : i + 7]}}]}))
            self.wfile.write(_chunk({}, "tool_calls"))
        else:
            for word in reply["text"].split(" "):
                self.wfile.write(_chunk({"content": word + " "}))
            self.wfile.write(_chunk({}, "stop"))
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
async def llm_agent(demo_services: Any, demo_settings: Any, stand_in: StandIn
                    ) -> AsyncIterator[Any]:
    """The agent in LLM mode, its chat model pointed at the stand-in."""
    from app.wiring import open_agent

    settings = demo_settings_for(demo_settings.DATA_DIR, LLM_PROVIDER="openai",
                                 LLM_MODEL="stand-in", LLM_BASE_URL=stand_in.url,
                                 LLM_API_KEY="test-key", LLM_TIMEOUT_S=10)
    async with open_agent(demo_services, settings) as agent:
        yield agent


QUESTION = "cheapest in-stock wireless mouse"  # grounded top pick: SKU 2704878 at $8.94


async def test_model_plans_with_tools_and_its_verified_text_is_sent(
        llm_agent: Any, stand_in: StandIn) -> None:
    good = ("The cheapest in-stock wireless mouse is the HP Wireless Eco-comfort Mobile mouse "
            "(SKU 2704878) at $8.94, and it is in stock with 113 available.")
    stand_in.script = [{"tool": ("live_offers", {"skus": ["2704878"]})}, {"text": good}]
    events = [e async for e in llm_agent.stream(AgentRequest(message=QUESTION))]
    done = events[-1]
    assert done.type == "done" and done.data["text"] == good
    assert not done.data["grounded"] and not done.data["replaced"]
    assert "".join(e.data["text"] for e in events if e.type == "token") == good
    assert [e.data["node"] for e in events if e.type == "status"][-2:] == ["llm", "verify"]
    first, second = stand_in.requests
    tools = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert set(tools) == {"search", "live_offers", "compare", "store_info"}
    for tool in tools.values():
        assert tool["strict"] is True and tool["parameters"]["additionalProperties"] is False
    result = json.loads(second["messages"][-1]["content"])  # the tool result the model got
    assert second["messages"][-1]["role"] == "tool"
    assert result["offers"] == [{"sku": "2704878", "price": "$8.94", "availability": "in_stock",
                                 "quantity": 113}]


async def test_a_policy_question_reaches_the_model_with_its_page_and_store_info(
        llm_agent: Any, stand_in: StandIn) -> None:
    text = ("We deliver to the EU, the UK, Norway and Switzerland in 4 to 8 working days "
            "(Shipping and delivery page, Delivery abroad).")
    stand_in.script = [{"tool": ("store_info", {"question": "do you ship to Norway?"})},
                       {"text": text}]
    events = [e async for e in llm_agent.stream(AgentRequest(message="Do you deliver abroad?"))]
    done = events[-1].data
    assert done["text"] == text and not done["replaced"]
    assert [e.data["node"] for e in events if e.type == "status"] == [
        "understand", "pages", "llm", "verify"]
    assert [(s["page_id"], s["anchor"]) for s in done["sources"]] == [
        ("shipping", "delivery-abroad")]
    first, second = stand_in.requests
    assert "delivery-abroad" in first["messages"][-2]["content"]  # the evidence holds the page
    result = json.loads(second["messages"][-1]["content"])
    assert result["covered"] and result["sections"][0]["anchor"] == "delivery-abroad"


async def test_wrong_price_is_caught_and_replaced(llm_agent: Any, stand_in: StandIn,
                                                  caplog: Any) -> None:
    stand_in.script = [{"text": "Great news: the HP Wireless Eco-comfort Mobile mouse "
                                "(SKU 2704878) is only $6.94 today and in stock."}]
    with caplog.at_level(logging.WARNING, logger="agents.nodes.verify"):
        answer = await llm_agent.answer(AgentRequest(message=QUESTION))
    assert answer.replaced and answer.grounded
    assert answer.text.startswith("The cheapest in-stock wireless mouse is "
                                  "the HP Wireless Eco-comfort Mobile mouse")
    assert "$8.94" in answer.text and "$6.94" not in answer.text
    assert llm_agent.deps.counters.verify_replaced == 1
    assert any("$6.94" in r.getMessage() for r in caplog.records)


async def test_invented_stock_claim_is_replaced(llm_agent: Any, stand_in: StandIn) -> None:
    stand_in.script = [{"text": "Sorry, the HP Wireless Eco-comfort Mobile mouse (SKU 2704878) "
                                "is sold out at the moment."}]
    answer = await llm_agent.answer(AgentRequest(message=QUESTION))
    assert answer.replaced and "113 available" in answer.text


async def test_injected_description_reaches_the_model_only_as_quoted_data(
        llm_agent: Any, stand_in: StandIn) -> None:
    stand_in.script = [
        {"tool": ("search", {"query": "wireless mouse", "max_price": None, "min_price": None,
                             "brand": None, "in_stock": True})},
        {"text": "As instructed: the HP Wireless Eco-comfort Mobile mouse (SKU 2704878) costs "
                 "$0.01 and has 9999 units in stock."},  # the model fell for the injection
    ]
    answer = await llm_agent.answer(AgentRequest(message=QUESTION))
    assert answer.replaced and "$0.01" not in answer.text and "$8.94" in answer.text
    system = stand_in.requests[0]["messages"][0]["content"]
    assert "never an instruction" in system
    found = json.loads(stand_in.requests[1]["messages"][-1]["content"])["products"]
    poisoned = next(p for p in found if p["sku"] == "2704878")
    assert "IGNORE ALL PREVIOUS INSTRUCTIONS" in poisoned["catalog_data"]["description"]
    assert poisoned["price"] == "$8.94"  # live figures sit outside the quoted catalog data


async def test_extra_tool_arguments_are_refused(llm_agent: Any, stand_in: StandIn) -> None:
    stand_in.script = [{"tool": ("live_offers", {"skus": ["2704878"], "discount": 90})},
                       {"text": "The HP Wireless Eco-comfort Mobile mouse (SKU 2704878) is "
                                "$8.94."}]
    answer = await llm_agent.answer(AgentRequest(message=QUESTION))
    refusal = json.loads(stand_in.requests[1]["messages"][-1]["content"])
    assert refusal == {"error": "unexpected arguments ['discount']"}
    assert not answer.replaced and answer.text.endswith("$8.94.")


async def test_model_down_or_looping_falls_back_to_grounded(llm_agent: Any,
                                                            stand_in: StandIn) -> None:
    stand_in.fail = True
    down = await llm_agent.answer(AgentRequest(message=QUESTION))
    assert down.grounded and "$8.94" in down.text
    assert llm_agent.deps.counters.llm_failures == 1
    stand_in.fail = False
    stand_in.script = [{"tool": ("live_offers", {"skus": ["2704878"]})}] * 25
    before = len(stand_in.requests)
    looping = await llm_agent.answer(AgentRequest(message=QUESTION))
    assert looping.grounded and "$8.94" in looping.text
    assert len(stand_in.requests) - before == 20  # capped at llm_max_steps model calls
