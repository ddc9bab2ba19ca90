"""The MCP catalog server driven by the official ``mcp`` client (streamable HTTP + ClientSession).

A real uvicorn on loopback serves the real app on a private copy of the demo subset. Every
price the tools return is compared with the system of record, read from outside the server,
before and after another program changes one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from app.settings import Settings
from catalog import Money, minor_units
from tests.http_support import LiveServer, fresh_copy, http_settings, live_server, sor_call

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SKU = "122442"  # "HP USB Optical 3-button Mouse"
TEMPLATE = "https://shop.example/p/{sku}"
TOOLS = {"search_catalog", "lookup_catalog", "get_product", "get_store_info"}


@pytest.fixture(scope="module")
def server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory,
           embedder: Any) -> Iterator[tuple[LiveServer, Settings]]:
    data = fresh_copy(demo_data, tmp_path_factory.mktemp("mcp") / "data")
    settings = http_settings(data, PRODUCT_URL_TEMPLATE=TEMPLATE)
    with live_server(settings, embedder) as srv:
        yield srv, settings


@asynccontextmanager
async def connect(server: tuple[LiveServer, Settings]) -> AsyncIterator[ClientSession]:
    """A session per test, opened and closed in the test's own task (anyio's task groups
    cannot span a fixture's setup and teardown)."""
    srv, _ = server
    async with streamable_http_client(srv.url + "/mcp") as (read, write), \
            ClientSession(read, write) as s:
        await s.initialize()
        yield s


async def call(session: ClientSession, tool: str, **catalog: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, {"catalog": catalog})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    text = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert text == result.structured_content, "text and structured content must agree"
    return result.structured_content


def live(settings: Settings, skus: list[str]) -> dict[str, Any]:
    return sor_call(settings, "get_offers", "demo", skus)  # type: ignore[no-any-return]


def assert_live(settings: Settings, products: list[dict[str, Any]]) -> None:
    """Every variant's price and availability equal the SoR's, in UCP's shapes."""
    variants = [v for p in products for v in p["variants"]]
    assert variants
    offers = live(settings, [v["sku"] for v in variants])
    for v in variants:
        o = offers[v["sku"]]
        assert v["price"] == {"amount": minor_units(o.price.amount, o.price.currency),
                              "currency": o.price.currency}
        assert v["availability"]["status"] == o.stock.availability
        assert v["availability"]["quantity"] == o.stock.quantity
        assert v["availability"]["available"] == o.stock.in_stock
        assert v["as_of"]
        assert v["url"] == TEMPLATE.format(sku=v["sku"])


async def test_tools_are_published_with_strict_schemas(server: tuple[LiveServer, Settings]) -> None:
    async with connect(server) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description or "") > 80, "a model picks tools by their description"
        schema = tool.input_schema
        assert schema.get("additionalProperties") is False
        arg = "store" if tool.name == "get_store_info" else "catalog"
        assert arg in schema["required"]
        catalog = schema["$defs"][schema["properties"][arg]["$ref"].rsplit("/", 1)[-1]]
        assert catalog["additionalProperties"] is False
        assert tool.annotations is not None and tool.annotations.read_only_hint
    assert "minor units" in (tools["search_catalog"].description or "")


async def test_search_has_live_prices_filters_and_cursor_pages(
    server: tuple[LiveServer, Settings]
) -> None:
    async with connect(server) as session:
        await search_pages(session, server[1])


async def search_pages(session: ClientSession, settings: Settings) -> None:
    first = await call(session, "search_catalog", query="wireless mouse",
                       filters={"price": {"max": 3000}, "availability": ["in_stock"]},
                       pagination={"limit": 3})
    assert first["ucp"]["capabilities"]["dev.ucp.shopping.catalog.search"]
    assert 1 <= len(first["products"]) <= 3
    assert_live(settings, first["products"])
    for p in first["products"]:
        assert p["price_range"]["min"]["amount"] <= 3000
        assert all(v["availability"]["status"] == "in_stock" for v in p["variants"])
    assert first["pagination"]["has_next_page"] is True
    second = await call(session, "search_catalog", query="wireless mouse",
                        filters={"price": {"max": 3000}, "availability": ["in_stock"]},
                        pagination={"limit": 3, "cursor": first["pagination"]["cursor"]})
    ids = [p["id"] for p in first["products"]]
    assert second["products"] and not {p["id"] for p in second["products"]} & set(ids)

    branded = await call(session, "search_catalog", query="mouse", filters={"brand": ["hp"]})
    assert branded["products"] and all(p["brand"] == "HP" for p in branded["products"])

    # A cursor is bound to its search: reusing it for another query is refused.
    other = await session.call_tool("search_catalog", {"catalog": {
        "query": "keyboard", "pagination": {"cursor": first["pagination"]["cursor"]}}})
    assert other.is_error and "cursor" in other.content[0].text  # type: ignore[union-attr]


async def test_lookup_and_product_and_a_price_change_in_the_very_next_call(
    server: tuple[LiveServer, Settings]
) -> None:
    async with connect(server) as session:
        await lookups(session, server[1])


async def lookups(session: ClientSession, settings: Settings) -> None:
    found = await call(session, "lookup_catalog", ids=[SKU, "no-such-thing"])
    assert [v["sku"] for p in found["products"] for v in p["variants"]] == [SKU]
    assert found["products"][0]["variants"][0]["inputs"] == [{"id": SKU, "match": "exact"}]
    assert [m["code"] for m in found["messages"]] == ["not_found"]
    assert_live(settings, found["products"])

    detail = await call(session, "get_product", id=SKU)
    assert detail["product"]["variants"][0]["sku"] == SKU
    assert_live(settings, [detail["product"]])
    by_product = await call(session, "get_product", id=detail["product"]["id"])
    assert {v["sku"] for v in by_product["product"]["variants"]} >= {SKU}

    # Another program changes the price in the SoR: the next call already shows it.
    assert sor_call(settings, "set_price", "demo", SKU, Money(amount=Decimal("12.34")))
    again = await call(session, "lookup_catalog", ids=[SKU])
    assert again["products"][0]["variants"][0]["price"] == {"amount": 1234, "currency": "USD"}
    assert (await call(session, "get_product", id=SKU))["product"]["price_range"]["min"][
        "amount"] == 1234

    missing = await session.call_tool("get_product", {"catalog": {"id": "no-such-sku"}})
    assert missing.is_error and "no product" in missing.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("arguments", [
    {"catalog": {"query": "mouse", "colour": "red"}},                     # unknown key
    {"catalog": {"query": "mouse"}, "extra": 1},                           # unknown top-level key
    {"catalog": {"query": "mouse", "filters": {"price": {"max": -1}}}},   # below the minimum
    {"catalog": {"query": "mouse", "pagination": {"limit": 500}}},        # over the maximum
    {"catalog": {"query": ""}},                                            # empty query
    {},                                                                    # nothing
])
async def test_bad_arguments_are_refused(
    server: tuple[LiveServer, Settings], arguments: dict[str, Any]
) -> None:
    async with connect(server) as session:
        result = await session.call_tool("search_catalog", arguments)
    assert result.is_error
    assert "Traceback" not in result.content[0].text  # type: ignore[union-attr]


async def store(session: ClientSession, **request: Any) -> dict[str, Any]:
    result = await session.call_tool("get_store_info", {"store": request})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_get_store_info_answers_from_the_store_pages_with_citations(
    server: tuple[LiveServer, Settings]
) -> None:
    async with connect(server) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        abroad = await store(session, query="Do you deliver abroad?")
        returns = await store(session, query="how long do refunds take", page="returns", limit=1)
        unknown = await store(session, query="Who is your CEO?")
        bad = await session.call_tool("get_store_info", {"store": {"query": "x", "pages": 1}})
        no_page = await session.call_tool("get_store_info",
                                          {"store": {"query": "x", "page": "../etc"}})
    description = tools["get_store_info"].description or ""
    assert all(w in description for w in ("shipping", "returns", "warranty", "payment"))
    assert abroad["covered"] and abroad["contact"] is None and abroad["messages"] == []
    best = abroad["sections"][0]
    assert (best["page_id"], best["anchor"]) == ("shipping", "delivery-abroad")
    assert best["url"] == "/store/pages/shipping#delivery-abroad" and best["demo"]
    assert "European Union" in best["text"]
    assert [(s["page_id"], s["anchor"]) for s in returns["sections"]] == [("returns", "refunds")]
    assert not unknown["covered"] and unknown["sections"] == []
    assert unknown["contact"]["page_id"] == "contact"
    assert unknown["messages"][0]["code"] == "not_covered"
    assert bad.is_error and no_page.is_error
