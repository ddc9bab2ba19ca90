"""``GET /v1/threads/{thread_id}``: a thread's history, to its owner only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import AgentDep, ClientId
from app.api.openapi import error
from app.api.schemas import THREAD_ID_PATTERN, ThreadOut

router = APIRouter(prefix="/v1", tags=["chat"])


@router.get(
    "/threads/{thread_id}",
    response_model=ThreadOut,
    summary="A thread's messages (owner only)",
    responses={403: error("The thread belongs to another client"), 404: error("No such thread")},
)
async def thread(
    thread_id: Annotated[str, Path(pattern=THREAD_ID_PATTERN)], client: ClientId, agent: AgentDep
) -> ThreadOut:
    """Send the same `X-Client-Id` that started the thread (the agent checks the owner)."""
    messages = await agent.history(thread_id, client)
    return ThreadOut(thread_id=thread_id, messages=messages, count=len(messages))
