"""Model and tool calls as gen_ai.* spans; message content only when it is asked for.

The model is a scripted stand-in with LangChain's streaming interface (``astream`` of
``AIMessageChunk``): one turn calls a tool, the next answers. The tool call names a tool that
does not exist, so the real ``ToolBox`` answers it with an error without touching any client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, BaseMessage
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from agents.nodes.llm import plan_and_write
from agents.state import State
from agents.tools import ToolBox

SECRET_WORDS = "my card number is 4111"


class ScriptedModel:
    """Two turns: a tool call, then a streamed answer with usage and a finish reason."""

    model_name = "stand-in-1"

    def __init__(self) -> None:
        self.turn = 0

    async def astream(self, messages: list[BaseMessage]) -> AsyncIterator[AIMessageChunk]:
        self.turn += 1
        if self.turn == 1:
            yield AIMessageChunk(content="", id="run-1", tool_call_chunks=[
                {"name": "no_such_tool", "args": '{"q": "x"}', "id": "call_1", "index": 0}])
            return
        for word in ("Here ", "it is."):
            yield AIMessageChunk(content=word, id="run-2")
        yield AIMessageChunk(content="", id="run-2",
                             usage_metadata={"input_tokens": 42, "output_tokens": 7,
                                             "total_tokens": 49},
                             response_metadata={"finish_reason": "stop",
                                                "model_name": "stand-in-1-2027"})


@dataclass
class Deps:
    """The fields of ``AgentDeps`` the LLM step and an unknown tool call read."""

    tracer: Tracer
    trace_content: bool
    llm: Any = field(default_factory=ScriptedModel)


def provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tp = TracerProvider()  # this test's own provider: nothing global to reset
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    return tp, exporter


@pytest.mark.parametrize("content", [False, True])
async def test_model_and_tool_calls_are_gen_ai_spans(content: bool) -> None:
    tp, exporter = provider()
    deps = Deps(tp.get_tracer("test"), content)
    box = ToolBox(deps, "demo", State(message=SECRET_WORDS))  # type: ignore[arg-type]
    text = await plan_and_write(deps.llm, box, State(message=SECRET_WORDS), steps=3)
    assert text == "Here it is."

    spans = exporter.get_finished_spans()
    chats = [s for s in spans if s.name == "chat stand-in-1"]
    (tool,) = [s for s in spans if s.name == "execute_tool no_such_tool"]
    assert len(chats) == 2
    first, last = (dict(s.attributes or {}) for s in chats)
    assert all(s.kind == SpanKind.CLIENT for s in chats)
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.request.model"] == "stand-in-1"
    assert first["gen_ai.provider.name"]
    assert last["gen_ai.usage.input_tokens"] == 42
    assert last["gen_ai.usage.output_tokens"] == 7
    assert last["gen_ai.response.finish_reasons"] == ("stop",)
    assert last["gen_ai.response.model"] == "stand-in-1-2027"
    tool_attrs = dict(tool.attributes or {})
    assert tool_attrs["gen_ai.operation.name"] == "execute_tool"
    assert tool_attrs["gen_ai.tool.call.id"] == "call_1"
    assert tool.status.is_ok is False  # the tool answered with an error

    exported = repr([dict(s.attributes or {}) for s in spans])
    if content:
        assert SECRET_WORDS in str(last["gen_ai.input.messages"])
        assert "Here it is." in str(last["gen_ai.output.messages"])
        assert "gen_ai.tool.call.result" in tool_attrs
    else:
        assert SECRET_WORDS not in exported and "Here it is." not in exported
        assert not any(k.startswith(("gen_ai.input", "gen_ai.output")) for k in first | last)
        assert "gen_ai.tool.call.arguments" not in tool_attrs
