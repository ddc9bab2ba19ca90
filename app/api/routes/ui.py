"""``POST /v1/chat/ui``: the shopper's answer as the Vercel AI SDK UI message stream (useChat)."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from agents import AgentRequest
from app.api.deps import AgentDep, ClientId, RuntimeDep, Started, UITurn
from app.api.openapi import UI_STREAM_RESPONSES
from app.api.protocols.ui_stream import HEADERS, UIMessageStream
from app.api.sse import prime, sse_response

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post(
    "/chat/ui",
    response_class=EventSourceResponse,
    responses=UI_STREAM_RESPONSES,
    summary="Ask, and stream the answer as an AI SDK UI message stream",
)
async def chat_ui(
    turn: UITurn, client: ClientId, agent: AgentDep, rt: RuntimeDep, started: Started
) -> EventSourceResponse:
    """For `useChat` with `DefaultChatTransport({api: "/v1/chat/ui"})`: the chat `id` is the
    thread (send the same `X-Client-Id`), and only the last user message is answered."""
    req = AgentRequest(message=turn.message, thread_id=turn.thread_id, user_id=client,
                       tenant=turn.tenant or rt.settings.TENANT, mode="shopper")
    events = await prime(agent.stream(req))
    return sse_response(
        events, rt.metrics, started=started, runs=rt.runs, ping_seconds=rt.sse_ping_seconds,
        headers={**HEADERS, "X-Client-Id": client}, wire=UIMessageStream(),
    )
