"""The chat model factory: a LangChain chat model bound to the agent's strict tool schemas.

Providers are imported lazily, so the grounded default never loads an LLM client.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from pydantic import SecretStr

from agents.tools import TOOLS


def chat_model(provider: str, *, model: str, base_url: str = "", api_key: str | None = None,
               timeout_s: float = 30.0) -> Runnable[Any, Any] | None:
    """The configured chat model bound to the tools, or None for the grounded responder only."""
    llm: BaseChatModel
    match provider:
        case "none" | "":
            return None
        case "openai":
            from langchain_openai import ChatOpenAI

            llm = ChatOpenAI(model=model, base_url=base_url or None,
                             api_key=SecretStr(api_key or "unused"), timeout=timeout_s,
                             max_retries=1, streaming=True)
        case "init_chat_model":
            try:
                from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
            except ImportError as exc:
                raise ValueError("init_chat_model needs the langchain package") from exc
            llm = init_chat_model(model, base_url=base_url or None, api_key=api_key)
        case other:
            raise ValueError(f"unknown LLM_PROVIDER {other!r}; use none, openai or init_chat_model")
    return llm.bind_tools(TOOLS, strict=True)
