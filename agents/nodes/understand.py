"""understand: intent and constraints, resolved against the catalog vocabulary and the last turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.runtime import Runtime

from agents.context import Context
from agents.rules.followups import pick, refine
from agents.rules.parsing import (
    BOTH,
    CHEAPER,
    COMPARE,
    FIRST_N,
    FOLLOW_UP,
    IN_STOCK,
    MORE,
    ORDINAL,
    PRICIER,
    STOCK_QUESTION,
    blank,
    price_bounds,
)
from agents.rules.ranking import RELAX_ORDER, is_set
from agents.rules.terms import VAGUE, content, find_terms
from agents.rules.types import head_type
from agents.rules.vocabulary import Vocabulary
from agents.state import Constraints, Intent, Memory, State, no_constraints, turn_defaults
from catalog import Forbidden
from search import code_tokens
from search.types import QueryEmbedder


@dataclass
class Understanding:
    """What ``understand`` concluded about one message."""

    intent: Intent
    query: str
    constraints: Constraints
    focus: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)


def interpret(message: str, vocab: Vocabulary, memory: Memory | None = None,
              embedder: QueryEmbedder | None = None) -> Understanding:
    """Intent, retrieval text and constraints of one message (pure but for ``embedder``, which
    finds paraphrased product types; unit-tested as a table)."""
    text = " ".join(message.split())
    bounds = price_bounds(text)
    stock = IN_STOCK.search(text)
    asks_stock = bool(STOCK_QUESTION.search(text))
    cues = [m.span() for r in (CHEAPER, PRICIER, MORE, COMPARE, FIRST_N, ORDINAL, BOTH)
            for m in r.finditer(text)]
    rest = blank(text, bounds.spans + cues + ([stock.span()] if stock else []))
    models, eans = code_tokens(rest)
    terms = find_terms(rest, vocab)
    # "ink for my hp printer" wants ink: the head type, a filter when sure, else a boost.
    product_type, boost = head_type(vocab, terms.free, embedder)
    c = Constraints(min_price=bounds.min_price, max_price=bounds.max_price, sort=bounds.sort,
                    brands=terms.brands, colours=terms.colours, facets=sorted(set(terms.facets)),
                    in_stock=bool(stock), codes=models + eans, exclude=[],
                    product_type=product_type, boost_types=boost)
    query = " ".join(content(terms.words))
    meaningful = [w for w in content(terms.free) if w not in VAGUE]
    focus = pick(memory, text, bool(c["codes"]))
    if focus:
        c["in_stock"] = c["in_stock"] and not asks_stock
        intent: Intent = ("compare" if COMPARE.search(text) else
                          "availability" if asks_stock else "detail")
        return Understanding(intent, query, c, focus)
    cue = any(r.search(text) for r in (FOLLOW_UP, CHEAPER, PRICIER, MORE))
    if memory and not c["codes"] and not meaningful and (cue or c != no_constraints()):
        query, merged = refine(memory, c, text, terms)
        return Understanding("search", query, merged, fresh=[k for k in RELAX_ORDER
                                                             if is_set(c, k)])
    if memory and cue and FOLLOW_UP.match(text):  # "what about keyboards?" keeps price and stock
        old = memory["constraints"]
        c["in_stock"] = c["in_stock"] or old["in_stock"]
        if c["max_price"] is None and c["min_price"] is None:
            c["max_price"], c["min_price"] = old["max_price"], old["min_price"]
    if COMPARE.search(text):
        return Understanding("compare", query, c)
    if c["codes"]:
        if asks_stock:
            c["in_stock"] = False  # a question about one product, not a filter
        return Understanding("availability" if asks_stock else "lookup", query, c)
    if not meaningful and not c["brands"] and not c["product_type"]:
        return Understanding("clarify", "", c)
    return Understanding("search", query, c)


async def understand(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Graph node: reset the per-turn fields and read the message (threads are owner-only)."""
    cfg = runtime.context.cfg
    if state.owner and state.owner != cfg.user_id:
        raise Forbidden("this conversation belongs to another user")
    deps = runtime.context.deps
    vocab = await deps.vocabulary.get(cfg.tenant)
    u = await deps.blocking(interpret, state.message, vocab, state.memory, deps.retriever.embedder)
    return {**turn_defaults(), "owner": cfg.user_id, "intent": u.intent, "query": u.query,
            "constraints": u.constraints, "focus": u.focus, "fresh": u.fresh}


def after_understand(state: State) -> Literal["retrieve", "decide"]:
    """Router: a vague message goes straight to ``decide`` for one clarifying question."""
    return "decide" if state.intent == "clarify" else "retrieve"
