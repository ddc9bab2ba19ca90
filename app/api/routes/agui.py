"""``POST /v1/agui``: an assist run as AG-UI events (CopilotKit-style clients), agent key needed."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from agents import AgentRequest
from app.api.deps import AgentDep, AgUiTurn, AssistUser, RuntimeDep, Started, key_first
from app.api.openapi import AGUI_RESPONSES
from app.api.protocols.agui import AgUiEvents
from app.api.sse import prime, sse_response

router = APIRouter(prefix="/v1", tags=["assist"], route_class=key_first("assist"))


@router.post(
    "/agui",
    response_class=EventSourceResponse,
    responses=AGUI_RESPONSES,
    summary="Suggested reply as AG-UI events (RUN_STARTED … STATE_SNAPSHOT, RUN_FINISHED)",
)
async def agui(
    turn: AgUiTurn, user: AssistUser, agent: AgentDep, rt: RuntimeDep,
    started: Started,
) -> EventSourceResponse:
    """`threadId` is the assist thread (the key that started it owns it); the last user message
    is answered. `STATE_SNAPSHOT` carries the cards, the evidence (live price, per-warehouse
    stock) and the step trace."""
    req = AgentRequest(message=turn.message, thread_id=turn.thread_id, user_id=user,
                       tenant=turn.tenant or rt.settings.TENANT, mode="assist",
                       history=turn.history)
    events = await prime(agent.stream(req))
    return sse_response(
        events, rt.metrics, started=started, runs=rt.runs, ping_seconds=rt.sse_ping_seconds,
        wire=AgUiEvents(turn.run_id),
    )
