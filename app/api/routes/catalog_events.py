"""``POST /v1/catalog/events``: the change webhook (ingest API key), queued for the worker."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["catalog"])
