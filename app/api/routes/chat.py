"""``POST /v1/chat/stream``: the shopper's answer as Server-Sent Events (the widget's endpoint)."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from agents import AgentRequest
from app.api.deps import AgentDep, ClientId, OwnedChat, RuntimeDep, Started
from app.api.openapi import SSE_RESPONSES
from app.api.sse import prime, sse_response

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    responses=SSE_RESPONSES,
    summary="Ask, and stream the answer (SSE)",
)
async def chat_stream(
    body: OwnedChat, client: ClientId, agent: AgentDep, rt: RuntimeDep, started: Started
) -> EventSourceResponse:
    """Events in order: `meta`, `status`…, `products`, `token`…, then `done` (or `error`).

    Resume a thread by sending the `thread_id` from its `meta` event with the same `X-Client-Id`.
    """
    req = AgentRequest(
        message=body.message, thread_id=body.thread_id, user_id=client,
        tenant=body.tenant or rt.settings.TENANT, mode="shopper",
    )
    events = await prime(agent.stream(req))
    return sse_response(
        events, rt.metrics, started=started, runs=rt.runs, ping_seconds=rt.sse_ping_seconds,
        headers={"X-Client-Id": client},
    )
