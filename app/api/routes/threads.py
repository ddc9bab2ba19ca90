"""``GET /v1/threads/{thread_id}``: a thread's history, to its owner only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import AgentDep, ClientId
from app.api.openapi import error

router = APIRouter(prefix="/v1", tags=["chat"])


@router.get(
    "/threads/{thread_id}",
    summary="A thread's messages (owner only)",
    responses={403: error("The thread belongs to another client"), 404: error("No such thread")},
)
async def thread(thread_id: str, client: ClientId, agent: AgentDep) -> Any:
    """Send the same `X-Client-Id` that started the thread."""
    return await agent.history(thread_id, client)
