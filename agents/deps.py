"""The clients one agent shares across runs, and the per-run context the graph receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.configuration import Configuration
from agents.live import LiveLookup
from agents.retrieval import Retriever
from agents.vocabulary import VocabularyCache


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

    counters: Counters = field(default_factory=Counters)


@dataclass(frozen=True, slots=True)
class Context:
    """One run's context: the shared clients plus this request's configuration."""

    deps: AgentDeps
    cfg: Configuration
