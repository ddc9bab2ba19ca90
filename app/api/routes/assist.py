"""``POST /v1/assist`` and ``/v1/assist/stream``: a suggested reply for a support agent."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from agents import AgentRequest, Answer
from app.api.deps import AgentDep, AssistUser, OwnedAssist, RuntimeDep, Started, key_first
from app.api.openapi import ANSWER_EXAMPLE, KEYED, SSE_RESPONSES, error
from app.api.schemas import AssistIn
from app.api.sse import prime, sse_response

router = APIRouter(prefix="/v1/assist", tags=["assist"], route_class=key_first("assist"))

# The agent speaks of user/assistant turns; the panel of customer/agent ones.
_ROLES = {"customer": "user", "agent": "assistant"}


def _request(body: AssistIn, user: str, default_tenant: str) -> AgentRequest:
    return AgentRequest(
        message=body.message, thread_id=body.thread_id, user_id=user,
        tenant=body.tenant or default_tenant, mode="assist",
        history=[{"role": _ROLES[t.role], "content": t.content} for t in body.history],
    )


@router.post(
    "",
    response_model=Answer,
    summary="Suggested reply, evidence and step trace (JSON)",
    responses={200: {"content": {"application/json": {"example": ANSWER_EXAMPLE}}}, **KEYED,
               404: error("No such assist thread, or no catalog for that tenant"),
               422: error("Message or history over the limits"), 429: error("Rate limited")},
)
async def assist(body: OwnedAssist, user: AssistUser, agent: AgentDep, rt: RuntimeDep) -> Answer:
    """`text` is the suggested reply; `evidence` has live price and per-warehouse stock."""
    async with rt.runs:
        return await agent.answer(_request(body, user, rt.settings.TENANT))


@router.post(
    "/stream",
    response_class=EventSourceResponse,
    summary="Suggested reply, streamed (SSE)",
    responses={**SSE_RESPONSES, **KEYED},
)
async def assist_stream(
    body: OwnedAssist, user: AssistUser, agent: AgentDep, rt: RuntimeDep, started: Started
) -> EventSourceResponse:
    """Same events as `/v1/chat/stream`; `done` also carries `evidence` and `trace`."""
    events = await prime(agent.stream(_request(body, user, rt.settings.TENANT)))
    return sse_response(
        events, rt.metrics, started=started, runs=rt.runs, ping_seconds=rt.sse_ping_seconds
    )
