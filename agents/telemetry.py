"""Spans of the read side: each graph node, each model call and tool call (gen_ai.* conventions).

Only OpenTelemetry's API: the tracer comes in ``AgentDeps`` (a no-op one unless the app turned
tracing on). Message content is recorded only when ``trace_content`` asks for it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.runtime import Runtime
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from agents.context import Context
from agents.state import State

Node = Callable[..., Awaitable[dict[str, Any]]]
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def traced_node(name: str, node: Node) -> Node:
    """``node`` inside a span of its own, a child of the graph run's span."""

    @functools.wraps(node)
    async def run(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
        tracer = runtime.context.deps.tracer
        with tracer.start_as_current_span(f"node {name}", attributes={"langgraph.node": name}):
            return await node(state, runtime=runtime)

    return run


def model_info(model: Any) -> tuple[str, str]:
    """(provider, model name) of a LangChain chat model, bound to tools or not."""
    bound = getattr(model, "bound", model)
    name = getattr(bound, "model_name", None) or getattr(bound, "model", None) or "unknown"
    module = type(bound).__module__.split(".")[0]
    provider = module.removeprefix("langchain_") if module.startswith("langchain_") else ""
    if provider in ("", "core", "community"):
        provider = str(getattr(bound, "_llm_type", "") or "unknown")
    return provider, str(name)


def _messages(messages: list[BaseMessage]) -> str:
    """Messages as the gen_ai.*.messages JSON (role and text parts, tool calls by name)."""
    out = []
    for m in messages:
        parts: list[dict[str, Any]] = [{"type": "text", "content": m.text}] if m.text else []
        for call in getattr(m, "tool_calls", None) or []:
            parts.append({"type": "tool_call", "id": call.get("id"), "name": call["name"],
                          "arguments": call.get("args")})
        out.append({"role": _ROLES.get(m.type, m.type), "parts": parts})
    return json.dumps(out, ensure_ascii=False, default=str)


@contextmanager
def chat_span(deps: Any, messages: list[BaseMessage]) -> Iterator[Callable[[AIMessage], None]]:
    """A ``chat {model}`` client span; the caller reports the merged reply through the
    function it yields (usage, finish reason, and the text when content is traced)."""
    provider, model = model_info(deps.llm)
    attrs: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
                             "gen_ai.request.model": model, "gen_ai.request.stream": True}
    if deps.trace_content:
        attrs["gen_ai.input.messages"] = _messages(messages)
    with deps.tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT,
                                           attributes=attrs) as span:
        yield functools.partial(_reply, span, deps.trace_content)


def _reply(span: Span, content: bool, reply: AIMessage) -> None:
    meta = reply.response_metadata or {}
    usage: dict[str, Any] = dict(reply.usage_metadata or {})
    if "input_tokens" in usage:
        span.set_attribute("gen_ai.usage.input_tokens", int(usage["input_tokens"]))
    if "output_tokens" in usage:
        span.set_attribute("gen_ai.usage.output_tokens", int(usage["output_tokens"]))
    if meta.get("finish_reason"):
        span.set_attribute("gen_ai.response.finish_reasons", [str(meta["finish_reason"])])
    if meta.get("model_name"):
        span.set_attribute("gen_ai.response.model", str(meta["model_name"]))
    if reply.id:
        span.set_attribute("gen_ai.response.id", str(reply.id))
    if content:
        span.set_attribute("gen_ai.output.messages", _messages([reply]))


@contextmanager
def tool_span(deps: Any, call: dict[str, Any]) -> Iterator[Callable[[str], None]]:
    """An ``execute_tool {name}`` span; yields a function that records the result (content
    only when traced)."""
    attrs: dict[str, Any] = {"gen_ai.operation.name": "execute_tool",
                             "gen_ai.tool.name": call["name"], "gen_ai.tool.type": "function"}
    if call.get("id"):
        attrs["gen_ai.tool.call.id"] = str(call["id"])
    if deps.trace_content:
        attrs["gen_ai.tool.call.arguments"] = json.dumps(call.get("args"), default=str)
    with deps.tracer.start_as_current_span(f"execute_tool {call['name']}",
                                           attributes=attrs) as span:

        def result(text: str) -> None:
            if text.startswith('{"error"'):
                span.set_status(Status(StatusCode.ERROR, "tool returned an error"))
            if deps.trace_content:
                span.set_attribute("gen_ai.tool.call.result", text)

        yield result
