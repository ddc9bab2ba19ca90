"""Request-body limits: a declared size over the limit is refused before the body is read, and
a body that streams past it is cut off at the limit (413, the usual JSON error body).

One limit per path (the webhook takes larger batches than a chat message needs), checked
ahead of routing and auth, so an oversized upload costs the server nothing but its headers.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(limit: int) -> str:
    return f"the request body is over the limit of {limit:,} bytes"


def _declared(scope: Scope) -> int | None:
    try:
        return int(Headers(scope=scope).get("content-length", ""))
    except ValueError:
        return None


class BodyLimit:
    """Plain ASGI, so streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp, *, default: int, per_path: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.per_path = dict(per_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = _declared(scope)
        if declared is not None and declared > limit:
            body = {"error": {"type": "content_too_large", "message": too_large(limit)}}
            # Connection: close, since the unread body cannot be skipped cheaply.
            await JSONResponse(body, status_code=413, headers={"Connection": "close"})(
                scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, so FastAPI passes it on while it reads the body (any
                    # other error there becomes a 400); the app's handler answers 413.
                    raise HTTPException(413, detail=too_large(limit))
            return message

        await self.app(scope, limited, send)
