"""``ShoppingAgent``: one compiled graph, its clients and its thread memory, behind three calls.

``stream`` yields meta → status per node → products → token deltas → done (or error last);
``answer`` folds that stream into an ``Answer``; ``history`` serves a thread to its owner only.
The agent is handed its clients (``AgentDeps``) and a checkpointer; it builds none itself.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from agents import stream
from agents.configuration import Configuration
from agents.context import AgentDeps, Context
from agents.graph import build_graph
from agents.runner import GraphRun, PendingWrites
from agents.schemas import AgentEvent, AgentRequest, Answer
from agents.state import InputState, State
from catalog import Forbidden, NotFound, ShopkeeperError

log = logging.getLogger(__name__)
Graph = CompiledStateGraph[State, Context, InputState, State]


class ShoppingAgent:
    """Built once per process, shared by every request; close with ``aclose``."""

    def __init__(self, deps: AgentDeps, checkpointer: Checkpointer = None) -> None:
        self.deps = deps
        self._graph: Graph = build_graph(checkpointer)
        self._stateless: Graph = build_graph(None)
        self._writes = PendingWrites()

    async def warm(self, tenant: str) -> None:
        """Read the tenant's vocabulary now, not on the first shopper's question."""
        await self.deps.vocabulary.get(tenant)

    async def aclose(self) -> None:
        """Wait for threads still being saved, then stop the retrieval threads."""
        await self._writes.settle()
        self.deps.pool.shutdown(wait=False, cancel_futures=True)

    def _config(self, req: AgentRequest, thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id, "tenant": req.tenant,
                                 "user_id": req.user_id, "mode": req.mode,
                                 "use_llm": self.deps.llm is not None}}

    def _start(self, req: AgentRequest, thread_id: str, span: Span) -> GraphRun:
        config = self._config(req, thread_id)
        context = Context(self.deps, Configuration.from_runnable_config(config))
        inp = InputState(message=req.message, history=req.history)
        # The run's task sees the graph span as its current span (so nodes are its children);
        # this generator's own context is left alone, as it is resumed by the consumer.
        run_ctx = contextvars.copy_context()
        run_ctx.run(otel_context.attach, trace.set_span_in_context(span))
        if req.mode == "query":  # single turn: nothing to remember
            return GraphRun(self._stateless.astream(inp, config, context=context,
                                                    stream_mode="updates"), run_ctx)
        return GraphRun(self._graph.astream(inp, config, context=context, stream_mode="updates",
                                            durability="exit"), run_ctx)

    async def _run(self, req: AgentRequest) -> AsyncGenerator[AgentEvent, None]:
        """The event stream inside the graph run's span (``invoke_agent``); raises on failure
        (``stream`` turns that into an error event)."""
        request_id = uuid.uuid4().hex
        span = self.deps.tracer.start_span(
            "invoke_agent ShoppingAgent",
            attributes={"gen_ai.operation.name": "invoke_agent",
                        "gen_ai.agent.name": "ShoppingAgent", "shopkeeper.mode": req.mode,
                        "shopkeeper.tenant": req.tenant, "shopkeeper.request.id": request_id})
        try:
            async for event in self._events(req, request_id, span):
                yield event
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            span.end()

    async def _events(self, req: AgentRequest, request_id: str, span: Span
                      ) -> AsyncGenerator[AgentEvent, None]:
        started = last = time.perf_counter()
        thread_id = req.thread_id if req.thread_id and req.mode != "query" else uuid.uuid4().hex
        yield stream.meta(thread_id, request_id, req.mode, req.tenant)
        values: dict[str, Any] = {}
        trace: list[dict[str, Any]] = []
        await self._writes.settle(thread_id)  # the previous turn's checkpoint, if still saving
        run = self._start(req, thread_id, span)
        finished = False
        try:
            async for node, update, now in run.updates():
                step = stream.status(node, (now - last) * 1000, update)
                last = now
                trace.append(step.data)
                values.update(update)
                yield step
                if node == "respond" or (node == "pages" and "answer" in update):
                    yield stream.products(values)
                if node in ("respond", "verify", "pages") and "final" in update:
                    # The last node has spoken: answer now, save the thread meanwhile.
                    finished = True
                    break
        finally:
            if finished:
                self._writes.keep(thread_id, run.task)
            else:  # consumer gone or run failed: cancel whatever node is still running
                await run.cancel()
        for token in stream.tokens(values.get("final", "")):
            yield token
        yield stream.done(values, trace, thread_id=thread_id, request_id=request_id,
                          mode=req.mode, ms=(time.perf_counter() - started) * 1000)

    async def stream(self, req: AgentRequest) -> AsyncIterator[AgentEvent]:
        """Events for one turn; failures end the stream with one error event, never a raise."""
        run = self._run(req)
        try:
            async for event in run:
                yield event
        except Exception as exc:
            if not isinstance(exc, ShopkeeperError):
                log.exception("agent run failed")
            yield stream.error(exc)
        finally:
            await run.aclose()

    async def answer(self, req: AgentRequest) -> Answer:
        """The whole answer at once; our errors (IndexUnavailable, Forbidden, ...) propagate."""
        return stream.to_answer([e async for e in self._run(req)])

    async def history(self, thread_id: str, user_id: str) -> list[dict[str, Any]]:
        """The thread's messages, for its owner only (NotFound / Forbidden otherwise)."""
        await self._writes.settle(thread_id)
        snapshot = await self._graph.aget_state({"configurable": {"thread_id": thread_id}})
        values = snapshot.values or {}
        if not values.get("owner"):
            raise NotFound("no such conversation (the id is unknown here)")
        if values["owner"] != user_id:
            raise Forbidden("this conversation belongs to another user")
        return list(values.get("turns", []))
