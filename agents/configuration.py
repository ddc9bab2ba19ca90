"""Per-run tunables, carried in the run config so one compiled graph serves every tenant/mode."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.schemas import AgentMode


@dataclass(kw_only=True, frozen=True)
class Configuration:
    """Who is asking, in which shop and mode, and how much work one answer may do."""

    tenant: str = "demo"
    """The shop whose catalog is searched; every index query is filtered by it."""

    user_id: str = "anonymous"
    """The caller; a thread belongs to the user id that started it."""

    mode: AgentMode = "shopper"
    """shopper (widget), assist (support agent: evidence and trace) or query (single turn)."""

    currency: str = ""
    """The shop's ISO currency; empty: the one most of its catalog is priced in."""

    max_results: int = 5
    """Product cards shown at most."""

    candidate_limit: int = 30
    """Hits fetched from the index before live filtering (the index price is only a prefilter)."""

    max_relaxations: int = 2
    """How many constraints ``decide`` may drop before saying nothing matches."""

    use_llm: bool = False
    """Let the chat model plan with tools and write the answer (verified afterwards)."""

    llm_max_steps: int = 20
    """Model calls allowed per answer, tool rounds included."""

    llm_timeout_s: float = 30.0
    """Wall-clock budget of the LLM step; on expiry the grounded answer is sent."""

    @classmethod
    def from_runnable_config(cls, config: RunnableConfig | None = None) -> Configuration:
        """Read the known keys of ``config["configurable"]``; unknown keys are ignored."""
        configurable: dict[str, Any] = dict((config or {}).get("configurable") or {})
        names = {f.name for f in fields(cls) if f.init}
        return cls(**{k: v for k, v in configurable.items() if k in names})
