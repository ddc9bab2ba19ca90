"""The clients one agent shares across runs, and the per-run context the graph receives."""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from agents.configuration import Configuration
from agents.offers import LiveLookup
from agents.rules.vocabulary import VocabularyCache
from catalog.tracing import NO_TRACER, Tracer
from search import Retriever

T = TypeVar("T")


def _one_intra_op_thread() -> None:
    """Query embeddings are latency-bound: each gets one intra-op thread, concurrency comes from
    the pool. Two threads per query oversubscribe a small box (measured ~3x slower under load).
    ONNX Runtime's query session is built with its own count (``EMBED_THREADS``); this covers
    torch, whose setting is per OS thread (OpenMP), so ingestion elsewhere keeps its threads."""
    try:
        import torch
    except ImportError:  # another embedding backend: nothing to tune
        return
    torch.set_num_threads(1)


def retrieval_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                              thread_name_prefix="agent-retrieve",
                              initializer=_one_intra_op_thread)


@dataclass
class Counters:
    """What went wrong how often, per agent instance (exported by the HTTP metrics)."""

    verify_replaced: int = 0
    llm_failures: int = 0
    relaxations: int = 0
    clarifications: int = 0


@dataclass
class AgentDeps:
    """Built once in ``ShoppingAgent.create``; nodes read it from ``runtime.context.deps``."""

    retriever: Retriever
    live: LiveLookup
    vocabulary: VocabularyCache
    llm: Any = None
    """A LangChain chat model, or None for the grounded responder alone."""

    product_url_template: str = ""
    """Product-page link for catalogs without one, e.g. ``https://shop.example/p/{sku}``."""

    tracer: Tracer = NO_TRACER
    """Spans for the graph, its nodes and model calls (a no-op tracer unless tracing is on)."""

    trace_content: bool = False
    """Record prompts, replies and tool arguments on model spans (off: they may hold PII)."""

    counters: Counters = field(default_factory=Counters)
    pool: ThreadPoolExecutor = field(default_factory=retrieval_pool)
    """Threads for the blocking work (query embedding, embedded index); shut down by the agent."""

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` in the agent's pool so the event loop keeps serving other requests; the
        caller's context goes along, so spans opened there (index queries) join its trace."""
        ctx = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(ctx.run, fn, *args, **kwargs))


@dataclass(frozen=True, slots=True)
class Context:
    """One run's context: the shared clients plus this request's configuration."""

    deps: AgentDeps
    cfg: Configuration

    async def currency(self) -> str | None:
        """The shop's currency: configured, else its catalog's (None while unreadable)."""
        if self.cfg.currency:
            return self.cfg.currency.upper()
        return (await self.deps.vocabulary.get(self.cfg.tenant)).currency
