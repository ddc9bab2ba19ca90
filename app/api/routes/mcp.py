"""``POST /mcp``: the MCP catalog server (streamable HTTP, stateless), behind the API's guards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.deps import RuntimeDep, rate_limit
from app.api.openapi import JSONRPC_ERROR, MCP_REQUEST, error
from app.api.protocols.mcp import TENANT_STATE

router = APIRouter(tags=["mcp"], dependencies=[Depends(rate_limit)])


class Handoff(Response):
    """A response that lets another ASGI app answer the request (the body is still unread)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__()
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@router.post(
    "/mcp",
    summary="MCP catalog server (JSON-RPC over streamable HTTP)",
    response_class=Response,
    openapi_extra=MCP_REQUEST,
    responses={200: {"description": "A JSON-RPC response (tools/list, tools/call, ...)",
                     "content": {"application/json": {"schema": {"type": "object"}}}},
               202: {"description": "A notification was accepted (no body)"},
               400: {"description": "Not a JSON-RPC message the server can read",
                     "content": {"application/json": {"schema": JSONRPC_ERROR}}},
               406: error("Accept must include application/json and text/event-stream"),
               422: error("Bad tenant"), 429: error("Rate limited; see Retry-After")},
)
async def mcp(
    request: Request, rt: RuntimeDep,
    tenant: Annotated[str | None, Query(min_length=1, max_length=64,
                                        description="Shop id; default SHOPKEEPER_TENANT")] = None,
) -> Response:
    """Tools `search_catalog`, `lookup_catalog`, `get_product` (UCP shapes, live prices).

    Point an MCP client at `https://HOST/mcp` (add `?tenant=` for another shop)."""
    setattr(request.state, TENANT_STATE, tenant or rt.settings.TENANT)
    return Handoff(rt.mcp.session_manager.handle_request)
