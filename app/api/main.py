"""All routers: the rate-limited ``/v1`` API, ops endpoints and the pages.

Each route module carries its full prefix (``/v1/...``), so a route's template, as metrics
label it, is the path a caller sees.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.deps import rate_limit
from app.api.routes import (
    agui,
    assist,
    catalog_events,
    chat,
    health,
    mcp,
    pages,
    query,
    store_pages,
    threads,
    ui,
)

v1 = APIRouter(dependencies=[Depends(rate_limit)])
for module in (chat, ui, query, assist, agui, threads, catalog_events):
    v1.include_router(module.router)

api_router = APIRouter()
api_router.include_router(v1)
api_router.include_router(mcp.router)
api_router.include_router(health.router)
api_router.include_router(pages.router)
api_router.include_router(store_pages.router)
