"""``POST /v1/query``: one question, one JSON answer with products and citations (for systems)."""

from __future__ import annotations

from fastapi import APIRouter

from agents import AgentRequest, Answer
from app.api.deps import AgentDep, ClientId, KnownQuery, RuntimeDep
from app.api.openapi import ANSWER_EXAMPLE, error

router = APIRouter(prefix="/v1", tags=["query"])


@router.post(
    "/query",
    response_model=Answer,
    summary="Ask one question, get a JSON answer",
    responses={
        200: {"content": {"application/json": {"example": ANSWER_EXAMPLE}}},
        404: error("No catalog for that tenant"),
        422: error("Message too long or malformed body"),
        429: error("Rate limited; see Retry-After"),
    },
)
async def query(
    body: KnownQuery, client: ClientId, agent: AgentDep, rt: RuntimeDep
) -> Answer:
    """Single turn: the thread is not kept for the caller. Prices and stock are read live."""
    tenant = body.tenant or rt.settings.TENANT
    req = AgentRequest(message=body.message, user_id=client, tenant=tenant, mode="query")
    async with rt.runs:  # the same run slots as the streams
        return await agent.answer(req)
