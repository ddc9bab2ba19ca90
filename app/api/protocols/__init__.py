"""The standard protocols, each a thin translation of the agent's one event stream.

``ui_stream`` (Vercel AI SDK UI message stream), ``agui`` (AG-UI) and ``mcp`` (a Model Context
Protocol catalog server with UCP-shaped tools, shaped by ``ucp``) sit beside our own SSE wire
(``app/api/sse.py``). Guards live in ``app/api/deps.py``, decisions in ``agents``.
"""

from __future__ import annotations

from typing import Any

TOOLS = {"retrieve": "search", "live_lookup": "live_offers"}
"""Graph steps shown as tool calls, by the tool name a client sees."""


class StepTools:
    """Reads the ``status`` events of one run and says which are tool calls, with what input:
    the search's is what ``understand`` made of the message, the live lookup's the SKUs the
    search found; the output is the step's own summary."""

    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {"search": {}, "live_offers": {"skus": []}}

    def call(self, status: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """(tool, input, output) when this step is shown as a tool call, else None."""
        node = status.get("node", "")
        if node == "understand":
            self.inputs["search"] = {k: status[k] for k in ("query", "filters", "intent")
                                     if k in status}
        tool = TOOLS.get(node)
        if tool is None:
            return None
        given = self.inputs[tool]
        if tool == "search":
            self.inputs["live_offers"] = {"skus": list(status.get("skus", []))}
        return tool, given, {k: v for k, v in status.items() if k not in ("node", "ms")}
