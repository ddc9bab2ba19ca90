"""``ShoppingAgent``: one compiled graph, its clients and its thread memory, behind three calls.

``stream`` yields meta → status per node → products → token deltas → done (or error last);
``answer`` folds that stream into an ``Answer``; ``history`` serves a thread to its owner only.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agents import events
from agents.checkpoint import open_checkpointer
from agents.configuration import Configuration
from agents.deps import AgentDeps, Context
from agents.evidence import evidence
from agents.graph import build_graph
from agents.live import LiveLookup, StockCache
from agents.llm import chat_model
from agents.runner import GraphRun, PendingWrites
from agents.schemas import AgentEvent, AgentRequest, Answer
from agents.state import InputState, State
from agents.vocabulary import VocabularyCache
from app.settings import Settings
from app.wiring import Services
from catalog.errors import Forbidden, NotFound, ShopkeeperError

log = logging.getLogger(__name__)
Graph = CompiledStateGraph[State, Context, InputState, State]


class ShoppingAgent:
    """Built once per process (``create``), shared by every request; close with ``aclose``."""

    def __init__(self, deps: AgentDeps, graph: Graph, stateless: Graph, stack: AsyncExitStack
                 ) -> None:
        self.deps = deps
        self._graph = graph
        self._stateless = stateless
        self._stack = stack
        self._writes = PendingWrites()

    @classmethod
    async def create(cls, services: Services, settings: Settings, *, llm: Any = None
                     ) -> ShoppingAgent:
        """Open the checkpointer (and Redis, if configured) and warm the tenant's vocabulary."""
        stack = AsyncExitStack()
        deps: AgentDeps | None = None
        try:
            saver = await open_checkpointer(settings, stack)
            cache = None
            if settings.REDIS_URL:
                from redis.asyncio import Redis

                cache = StockCache(Redis.from_url(settings.REDIS_URL),
                                   ttl_s=settings.STOCK_CACHE_TTL_S)
                stack.push_async_callback(cache.aclose)
            key = settings.LLM_API_KEY.get_secret_value() if settings.LLM_API_KEY else None
            deps = AgentDeps(
                retriever=services.retriever,
                live=LiveLookup(services.sor, timeout_s=settings.SOR_TIMEOUT_S,
                                retries=settings.SOR_RETRIES, cache=cache),
                vocabulary=VocabularyCache(services.sor),
                llm=llm or chat_model(settings.LLM_PROVIDER, model=settings.LLM_MODEL,
                                      base_url=settings.LLM_BASE_URL, api_key=key,
                                      timeout_s=settings.LLM_TIMEOUT_S),
            )
            await deps.vocabulary.get(settings.TENANT)
        except BaseException:
            if deps is not None:
                deps.pool.shutdown(wait=False)
            await stack.aclose()
            raise
        return cls(deps, build_graph(saver), build_graph(None), stack)

    async def aclose(self) -> None:
        await self._writes.settle()
        await self._stack.aclose()
        self.deps.pool.shutdown(wait=False, cancel_futures=True)

    def _config(self, req: AgentRequest, thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id, "tenant": req.tenant,
                                 "user_id": req.user_id, "mode": req.mode,
                                 "use_llm": self.deps.llm is not None}}

    async def _run(self, req: AgentRequest) -> AsyncGenerator[AgentEvent, None]:
        """The event stream; raises on failure (``stream`` turns that into an error event)."""
        started = last = time.perf_counter()
        thread_id = req.thread_id if req.thread_id and req.mode != "query" else uuid.uuid4().hex
        request_id = uuid.uuid4().hex
        yield AgentEvent(type="meta", data={"thread_id": thread_id, "request_id": request_id,
                                            "mode": req.mode, "tenant": req.tenant})
        stateless = req.mode == "query"
        values: dict[str, Any] = {}
        trace: list[dict[str, Any]] = []
        config = self._config(req, thread_id)
        context = Context(self.deps, Configuration.from_runnable_config(config))
        await self._writes.settle(thread_id)  # the previous turn's checkpoint, if still saving
        inp = InputState(message=req.message, history=req.history)
        run = GraphRun(self._stateless.astream(inp, config, context=context, stream_mode="updates")
                       if stateless else self._graph.astream(
                           inp, config, context=context, stream_mode="updates", durability="exit"))
        finished = False
        try:
            async for node, update, now in run.updates():
                step = events.status(node, (now - last) * 1000, update)
                last = now
                trace.append(step.data)
                values.update(update)
                yield step
                if node == "respond":
                    yield AgentEvent(type="products", data={
                        "products": values["cards"], "comparison": values.get("comparison")})
                if node in ("respond", "verify") and "final" in update:
                    # The last node has spoken: answer now, save the thread meanwhile.
                    finished = True
                    break
        finally:
            if finished:
                self._writes.keep(thread_id, run.task)
            else:  # consumer gone or run failed: cancel whatever node is still running
                await run.cancel()
        for token in events.tokens(values.get("final", "")):
            yield token
        done: dict[str, Any] = {
            "thread_id": thread_id, "request_id": request_id, "text": values.get("final", ""),
            "clarification": bool(values.get("clarify")), "relaxed": values.get("relaxed", []),
            "grounded": not values.get("llm_text") or bool(values.get("replaced")),
            "replaced": bool(values.get("replaced")), "live": values.get("live", "skipped"),
            "comparison": values.get("comparison"),
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if req.mode == "assist":
            done["trace"] = [{"node": t["node"], "ms": t["ms"],
                              "detail": {k: v for k, v in t.items() if k not in ("node", "ms")}}
                             for t in trace]
            done["evidence"] = evidence(values)
        yield AgentEvent(type="done", data=done)

    async def stream(self, req: AgentRequest) -> AsyncIterator[AgentEvent]:
        """Events for one turn; failures end the stream with one error event, never a raise."""
        run = self._run(req)
        try:
            async for event in run:
                yield event
        except Exception as exc:
            if not isinstance(exc, ShopkeeperError):
                log.exception("agent run failed")
            yield events.error(exc)
        finally:
            await run.aclose()

    async def answer(self, req: AgentRequest) -> Answer:
        """The whole answer at once; our errors (IndexUnavailable, Forbidden, ...) propagate."""
        return events.to_answer([e async for e in self._run(req)])

    async def history(self, thread_id: str, user_id: str) -> list[dict[str, Any]]:
        """The thread's messages, for its owner only (NotFound / Forbidden otherwise)."""
        await self._writes.settle(thread_id)
        snapshot = await self._graph.aget_state({"configurable": {"thread_id": thread_id}})
        values = snapshot.values or {}
        if not values.get("owner"):
            raise NotFound(f"no conversation {thread_id!r}")
        if values["owner"] != user_id:
            raise Forbidden("this conversation belongs to another user")
        return list(values.get("turns", []))
