"""live_lookup: the graph node that reads live price and stock for this turn's candidates."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.state import State


async def live_lookup(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Graph node: live offers for every candidate not looked up yet in this turn."""
    cfg = runtime.context.cfg
    missing = [c["sku"] for c in state.candidates if c["sku"] not in state.offers]
    if not missing:
        return {"live": "ok" if state.live == "skipped" else state.live}
    result = await runtime.context.deps.live.fetch(cfg.tenant, missing)
    status = "unavailable" if "unavailable" in (result.status, state.live) else "ok"
    return {"offers": {**state.offers, **result.offers}, "live": status}
