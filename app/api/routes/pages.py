"""The demo shop (``/``), the assist panel (``/assist``) and the embeddable ``/widget.js``."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from app.api.deps import SettingsDep

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parents[2] / "static"
# Shops cache the widget briefly so a fix reaches them within minutes.
_WIDGET_HEADERS = {"Cache-Control": "public, max-age=300"}


@router.get("/", response_class=HTMLResponse)
async def demo_shop(settings: SettingsDep) -> HTMLResponse:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(page.replace("__TENANT__", html.escape(settings.TENANT, quote=True)))


@router.get("/assist", response_class=FileResponse)
async def assist_panel() -> FileResponse:
    return FileResponse(STATIC / "assist.html", media_type="text/html")


@router.get("/widget.js", response_class=FileResponse)
async def widget() -> FileResponse:
    return FileResponse(
        STATIC / "widget.js", media_type="text/javascript", headers=_WIDGET_HEADERS
    )
