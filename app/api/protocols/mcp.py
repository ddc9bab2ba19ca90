"""An MCP server (official ``mcp`` SDK, streamable HTTP, stateless, JSON responses) with
UCP's catalog tools over ``agents.CatalogBrowser``: search_catalog, lookup_catalog, get_product,
and get_store_info (the shop's policy pages: shipping, returns, warranty, payment, contact).

Arguments are strict (an unknown key anywhere is refused); the published descriptions tell a
model which tool fits. The route (``app/api/routes/mcp.py``) applies the same guards as every
``/v1`` route and puts the tenant on the request, where the tools read it.

Adding a tool is a few lines: write ``async def my_tool(req: MyRequest, ctx: Context) -> dict``
below, with a strict request model in ``ucp.py``, and add ``_tool(my_tool, DESCRIPTION)`` to
the list in ``build_server``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette

from agents import CatalogBrowser, PriceBand, store_info
from app.api.protocols import ucp
from catalog import NotFound, ShopkeeperError

TENANT_STATE = "shopkeeper_tenant"
MAX_BODY_BYTES = 256 * 1024

SEARCH = (
    "Search this shop's catalog by what the shopper wants (words, a product type, a model "
    "number). Filters: categories (product types such as 'mouse'), brand, availability "
    "(in_stock, low_stock, ...), price {min, max} in minor units (3000 = $30.00). Returns "
    "products with their variants, each with the live price {amount, currency} in minor units, "
    "availability {available, status, quantity} and as_of (when the system of record was read), "
    "plus a product page url and an image. Page with pagination.cursor."
)
LOOKUP = (
    "Look products up by identifier: SKU, product id, model number or EAN (up to 50 at once). "
    "Each variant says which of your ids matched it; ids that match nothing are listed in "
    "messages. Live prices and availability, as in search_catalog."
)
PRODUCT = (
    "One product with all its variants, by product id or SKU (that SKU comes first): live "
    "price and availability of every variant, barcodes, page url and image."
)
STORE_INFO = (
    "Questions about the shop itself, not its products: shipping and delivery (times, costs, "
    "abroad), returns and refunds, warranty and guarantees, payment methods, contact and "
    "opening hours. Returns the sections of the shop's own pages that answer the question, "
    "best first, each with page_id, title, section, url (cite it) and text (the shop's words, "
    "quote them). covered=false means no page answers it: say you don't know and give the "
    "contact section. Use search_catalog for products."
)
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def _tenant(ctx: Context) -> str:
    """The shop the route put on the HTTP request (``?tenant=`` or SHOPKEEPER_TENANT)."""
    request = ctx.request_context.request
    if request is None:  # not over HTTP: no route ran, so no tenant was chosen
        raise ToolError("these tools are served over HTTP only")
    return str(getattr(request.state, TENANT_STATE))


async def _call(work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Our errors become tool errors with their message (the model can read and recover)."""
    try:
        return await work
    except ShopkeeperError as exc:
        raise ToolError(exc.message) from exc


def _tool(fn: Callable[..., Any], description: str) -> Tool:
    """A tool whose arguments refuse unknown keys, in the schema it publishes and at the call."""
    tool = Tool.from_function(fn, description=description, annotations=_READ_ONLY)
    loose = tool.fn_metadata.arg_model
    strict: type[BaseModel] = type(loose.__name__, (loose,), {"model_config": ConfigDict(
        extra="forbid", arbitrary_types_allowed=True)})
    tool.fn_metadata.arg_model = strict  # type: ignore[assignment]
    tool.parameters = strict.model_json_schema(by_alias=True)
    return tool


def build_server(browser: CatalogBrowser) -> tuple[MCPServer, Starlette]:
    """The MCP server and its (unmounted) streamable HTTP app, whose session manager the
    lifespan runs; the route hands requests to ``server.session_manager`` itself."""

    async def search_catalog(catalog: ucp.SearchRequest, ctx: Context,
                             meta: dict[str, Any] | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            f = catalog.filters or ucp.SearchFilters()
            currency = (catalog.context.currency if catalog.context else None) or "USD"
            band = PriceBand(f.price.min, f.price.max, currency) if f.price else None
            limit = catalog.pagination.limit if catalog.pagination else 10
            page = await browser.search(
                _tenant(ctx), catalog.query, brands=f.brand, categories=f.categories,
                price=band, availability=f.availability, offset=ucp.offset_of(catalog),
                limit=limit)
            return ucp.search_response(catalog, page)
        return await _call(run())

    async def lookup_catalog(catalog: ucp.LookupRequest, ctx: Context,
                             meta: dict[str, Any] | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            products = await browser.lookup(_tenant(ctx), catalog.ids)
            return ucp.lookup_response(catalog.ids, products)
        return await _call(run())

    async def get_product(catalog: ucp.ProductRequest, ctx: Context,
                          meta: dict[str, Any] | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            found = await browser.product(_tenant(ctx), catalog.id)
            if found is None:
                raise NotFound(f"no product or SKU {catalog.id!r} in this shop")
            return ucp.product_response(found)
        return await _call(run())

    async def get_store_info(store: ucp.StoreInfoRequest, ctx: Context,
                             meta: dict[str, Any] | None = None) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            result = await store_info(browser.deps, _tenant(ctx), store.query, store.limit,
                                      page_id=store.page)
            return ucp.store_info_response(result)
        return await _call(run())

    tools = [_tool(search_catalog, SEARCH), _tool(lookup_catalog, LOOKUP),
             _tool(get_product, PRODUCT), _tool(get_store_info, STORE_INFO)]
    server = MCPServer(
        "shopkeeper", title="Shopkeeper catalog", version="0.1.0", tools=tools,
        instructions="This shop's catalog with live prices and stock (UCP catalog tools), "
                     "and its store pages (get_store_info). Prices are in minor units; quote "
                     "them with their currency and as_of.",
    )
    # Host/Origin checks are the app's job (CORS allow-list); the tools only read.
    app = server.streamable_http_app(
        stateless_http=True, json_response=True, max_request_body_size=MAX_BODY_BYTES,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return server, app


@asynccontextmanager
async def running(server: MCPServer) -> AsyncIterator[None]:
    """Run the session manager for as long as the block lasts, in a task of its own: its anyio
    task group must be left by the task that entered it, and a lifespan may be entered and
    left by different tasks (test harnesses do)."""
    up, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with server.session_manager.run():
            up.set()
            await stop.wait()

    task = asyncio.create_task(serve(), name="mcp-session-manager")
    ready = asyncio.create_task(up.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():  # it failed to start: say why
        ready.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await task
