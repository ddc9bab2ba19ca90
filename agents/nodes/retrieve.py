"""retrieve: hybrid search with payload filters, or exact lookup of named codes and SKUs."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.finder import find
from agents.state import State


async def retrieve(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Candidates for this turn; the embedder and the embedded index block, so use a thread."""
    cfg = runtime.context.cfg
    deps = runtime.context.deps
    found = await deps.blocking(find, deps.retriever, cfg.tenant, state, cfg.candidate_limit)
    return {"candidates": found, "retry": False}
