"""Map every error to one JSON shape, ``{"error": {"type", "message"}}``, in one place.

Our own ``ShopkeeperError`` tree carries its status code; request validation becomes a 422 that
names each bad field; unknown exceptions are logged with their traceback and answered with a
generic 500, so no stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog import RateLimited, ShopkeeperError

log = logging.getLogger("shopkeeper.http")


def error_type(exc: BaseException) -> str:
    """``IndexUnavailable`` -> ``index_unavailable``: a stable, machine-readable error type."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def error_body(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **extra}}


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "header", "path")]
    return ".".join(parts) or "body"


def scrub(message: str, value: Any) -> str:
    """``message`` without the rejected value quoted in it: errors never echo the input."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return message
    text = str(value)
    if not text:
        return message
    for form in (repr(value), repr(text), f'"{text}"'):
        message = re.sub(r"\s*" + re.escape(form), "", message)
    return message


def validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    """[{field, message}] per bad field, the input left out of each message."""
    return [
        {"field": _field(e.get("loc", ())), "message": scrub(e.get("msg", ""), e.get("input"))}
        for e in exc.errors()
    ]


async def shopkeeper_error(request: Request, exc: Exception) -> JSONResponse:
    """Our errors: their own status code and message (written for the caller)."""
    assert isinstance(exc, ShopkeeperError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if exc.status_code >= 500:
        log.warning("%s %s -> %s: %s", request.method, request.url.path, exc.status_code, exc)
    return JSONResponse(
        error_body(error_type(exc), exc.message), status_code=exc.status_code, headers=headers
    )


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field; the rejected input is not echoed back."""
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc)
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "invalid request"
    return JSONResponse(error_body("validation_error", message, details=details), status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Framework errors (unknown path, wrong method) in the same shape as ours."""
    assert isinstance(exc, StarletteHTTPException)
    kinds = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
             413: "content_too_large"}
    return JSONResponse(
        error_body(kinds.get(exc.status_code, "http_error"), str(exc.detail)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else is our bug: log it in full, tell the caller only that it happened."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body("internal_error", "internal server error; it has been logged"), status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ShopkeeperError, shopkeeper_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
