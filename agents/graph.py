"""The agent graph: understand (→ pages) → retrieve → live_lookup → decide → respond (→ llm →
verify); ``pages`` answers questions about the shop from its store pages and ends the turn.

Clients (retriever, SoR lookup, chat model) and the request's ``Configuration`` arrive as the
run's ``Context``, so the graph is compiled once per process and shared by every request,
tenant and mode.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer

from agents.context import Context
from agents.nodes.decide import after_decide, decide
from agents.nodes.live_lookup import live_lookup
from agents.nodes.llm import llm_answer
from agents.nodes.pages import after_pages, store_pages
from agents.nodes.respond import respond
from agents.nodes.retrieve import retrieve
from agents.nodes.understand import after_understand, understand
from agents.nodes.verify import verify
from agents.state import InputState, State
from agents.telemetry import traced_node


def after_respond(state: State, runtime: Runtime[Context]) -> Literal["llm", "__end__"]:
    """Router: hand over to the language model only when one is configured and asked for."""
    use = runtime.context.cfg.use_llm and runtime.context.deps.llm is not None
    return "llm" if use else "__end__"


def build_graph(
    checkpointer: Checkpointer = None,
) -> CompiledStateGraph[State, Context, InputState, State]:
    """Compile the graph with a checkpointer (threads) or without (single-turn queries)."""
    return builder.compile(checkpointer=checkpointer, name="ShoppingAgent")


builder = StateGraph(State, context_schema=Context, input_schema=InputState)
for _name, _node in (("understand", understand), ("pages", store_pages),
                     ("retrieve", retrieve), ("live_lookup", live_lookup), ("decide", decide),
                     ("respond", respond), ("llm", llm_answer), ("verify", verify)):
    builder.add_node(_name, traced_node(_name, _node))
builder.add_edge(START, "understand")
builder.add_conditional_edges("understand", after_understand, ["retrieve", "decide", "pages"])
builder.add_conditional_edges("pages", after_pages, ["retrieve", "decide", "llm", END])
builder.add_edge("retrieve", "live_lookup")
builder.add_edge("live_lookup", "decide")
builder.add_conditional_edges("decide", after_decide, ["retrieve", "respond"])
builder.add_conditional_edges("respond", after_respond, ["llm", END])
builder.add_edge("llm", "verify")
builder.add_edge("verify", END)
graph = builder.compile(name="ShoppingAgent")
