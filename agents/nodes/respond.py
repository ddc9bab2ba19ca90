"""respond: the grounded answer (sentences from ``writers`` plus cards) and the turn's memory.

No model and no network: every figure is copied from this turn's live offers.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.rules.answer import write
from agents.rules.cards import card, why
from agents.state import Candidate, Memory, Shown, State, without


def remember(state: State, shown: list[Candidate]) -> Memory | None:
    """What a follow-up may refer to; turns about shown products keep the list they came from."""
    if state.intent == "clarify" or (state.focus and state.memory):
        return state.memory
    items = []
    for x in shown:
        o = state.offers.get(x["sku"])
        price = float(o["price"]) if o and o["price"] is not None else None
        items.append(Shown(sku=x["sku"], title=x["title"], brand=x["brand"],
                           product_id=x["product_id"], price=price))
    return Memory(query=state.query, constraints=state.constraints, shown=items)


async def respond(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Cards and the grounded text; in LLM mode the text is the fallback ``verify`` may use."""
    cfg = runtime.context.cfg
    by_sku = {x["sku"]: x for x in state.candidates}
    shown = [by_sku[s] for s in state.ranked if s in by_sku]
    c = without(state.constraints, state.dropped)
    currency = await runtime.context.currency()
    cards = []
    for x in shown:
        o = state.offers.get(x["sku"])
        reason = why(x, o, c, state.intent, state.query, currency)
        cards.append(card(x, o, reason, runtime.context.deps.product_url_template)
                     .model_dump(mode="json"))
    text = write(state, shown, currency)
    out: dict[str, Any] = {"answer": text, "cards": cards, "memory": remember(state, shown)}
    if not (cfg.use_llm and runtime.context.deps.llm is not None):
        out["final"] = text
        out["turns"] = [{"role": "user", "content": state.message},
                        {"role": "assistant", "content": text, "skus": state.ranked}]
    return out
