"""Store page search without the graph: what the LLM's ``store_info`` tool and the MCP
``get_store_info`` tool return (the sections that answer a question, or the contact page)."""

from __future__ import annotations

from typing import Any

from agents.context import AgentDeps
from agents.rules.policy import CONTACT_PAGE, COVERED, pick_contact, source

MAX_SECTIONS = 5


async def store_info(deps: AgentDeps, tenant: str, question: str, limit: int = 3,
                     page_id: str | None = None) -> dict[str, Any]:
    """Sections that answer ``question`` (best first, each with its citation); when none
    does, ``covered`` is false and ``contact`` says how to reach the shop."""
    limit = max(1, min(limit, MAX_SECTIONS))
    pool = MAX_SECTIONS * 4 if page_id else limit
    hits = await deps.blocking(deps.retriever.pages, question, tenant, pool)
    if page_id:
        hits = [h for h in hits if h.payload.get("page_id") == page_id]
    sections = [{**source(h.payload), "relevance": round(h.relevance, 3)}
                for h in hits[:limit] if h.relevance >= COVERED]
    contact = None
    if not sections:
        contact = pick_contact(hits) or pick_contact(
            await deps.blocking(deps.retriever.pages, CONTACT_PAGE, tenant, MAX_SECTIONS * 2))
    return {"covered": bool(sections), "sections": sections, "contact": contact}
