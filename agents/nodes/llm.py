"""LLM mode: a LangChain chat model plans with tool calls and writes the answer (then ``verify``).

The model is built once from settings (``chat_model``) and bound to the strict tool schemas.
Its steps and wall-clock time are capped; on any failure the grounded answer stands.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import Runnable
from langgraph.runtime import Runtime

from agents import prompts
from agents.context import Context
from agents.state import State
from agents.telemetry import chat_span, tool_span
from agents.tools import ToolBox, product_json

log = logging.getLogger(__name__)


def evidence(state: State) -> str:
    """The grounded facts of this turn, catalog text fenced as quoted JSON data."""
    by_sku = {c["sku"]: c for c in state.candidates}
    data = {"products": [product_json(by_sku[s], state.offers.get(s)) for s in state.ranked
                         if s in by_sku],
            "comparison": state.comparison, "relaxed": state.relaxed,
            "live_lookup": state.live, "draft_answer": state.answer,
            "store_pages": state.sources,
            "pasted_history": state.history[-10:]}
    return prompts.EVIDENCE.format(
        as_of=datetime.now(UTC).isoformat(timespec="seconds"), intent=state.intent,
        constraints=json.dumps(state.constraints), notes="",
        data=json.dumps(data, ensure_ascii=False, indent=1))


async def _complete(model: Runnable[Any, Any], messages: list[BaseMessage]) -> AIMessage:
    """One model turn, consumed as a token stream and merged into a single message."""
    merged: AIMessageChunk | None = None
    async for chunk in model.astream(messages):
        merged = chunk if merged is None else merged + chunk
    if merged is None:
        return AIMessage(content="")
    return AIMessage(content=merged.content, tool_calls=merged.tool_calls, id=merged.id,
                     response_metadata=merged.response_metadata,
                     usage_metadata=merged.usage_metadata)


async def plan_and_write(model: Runnable[Any, Any], box: ToolBox, state: State, steps: int) -> str:
    """Let the model call tools until it answers in text, at most ``steps`` model calls."""
    messages: list[BaseMessage] = [SystemMessage(prompts.SYSTEM)]
    for turn in state.turns[-6:]:
        cls = HumanMessage if turn["role"] == "user" else AIMessage
        messages.append(cls(content=str(turn["content"])))
    messages += [HumanMessage(evidence(state)), HumanMessage(state.message)]
    for _ in range(steps):
        with chat_span(box.deps, messages) as reply:
            ai = await _complete(model, messages)
            reply(ai)
        messages.append(ai)
        if not ai.tool_calls:
            return ai.text
        for call in ai.tool_calls:
            with tool_span(box.deps, dict(call)) as record:
                result = await box.run(call["name"], call["args"])
                record(result)
            messages.append(ToolMessage(content=result, tool_call_id=call["id"] or call["name"]))
    log.warning("LLM used all %d steps without answering", steps)
    return ""


async def llm_answer(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Graph node: the model's answer (unverified) and every live offer its tools read."""
    cfg = runtime.context.cfg
    deps = runtime.context.deps
    box = ToolBox(deps, cfg.tenant, state)
    text = ""
    try:
        async with asyncio.timeout(cfg.llm_timeout_s):
            text = await plan_and_write(deps.llm, box, state, cfg.llm_max_steps)
    except Exception as exc:  # a model outage must not cost the shopper the grounded answer
        deps.counters.llm_failures += 1
        log.warning("LLM step failed, sending the grounded answer: %s", exc)
    cited = state.sources + [s for s in box.sources if s not in state.sources]
    return {"llm_text": text, "offers": {**state.offers, **box.offers}, "sources": cited,
            "candidates": state.candidates + [c for s, c in box.known.items()
                                              if s not in {x["sku"] for x in state.candidates}]}
