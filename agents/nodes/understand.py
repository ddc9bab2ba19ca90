"""understand: intent and constraints, resolved against the catalog vocabulary and the last turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.runtime import Runtime

from agents import prompts
from agents.context import Context
from agents.rules.followups import pick, refine, unanchored
from agents.rules.money import money, name, named_currency
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
from agents.rules.policy import wants_pages
from agents.rules.ranking import RELAX_ORDER, is_set
from agents.rules.terms import VAGUE, content, find_terms
from agents.rules.types import head_type
from agents.rules.vocabulary import Vocabulary
from agents.rules.wishes import range_wishes
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
    clarify: str = ""
    """The question to ask instead of searching, when it is not the generic one."""


def interpret(message: str, vocab: Vocabulary, memory: Memory | None = None,
              currency: str | None = None, embedder: QueryEmbedder | None = None
              ) -> Understanding:
    """Intent, retrieval text and constraints of one message (pure but for ``embedder``, which
    finds paraphrased product types; unit-tested as a table). Amounts are in the shop's
    ``currency`` (default: its catalog's); another one is asked about, never converted."""
    text = " ".join(message.split())
    bounds = price_bounds(text)
    shop = currency or vocab.currency
    asked = named_currency(" ".join(bounds.money), shop)
    if asked and shop and asked != shop:
        amount = bounds.max_price if bounds.max_price is not None else bounds.min_price
        question = prompts.OTHER_CURRENCY.format(shop=name(shop), asked=name(asked),
                                                 example=money(amount or 0, shop))
        return Understanding("clarify", "", no_constraints(), clarify=question)
    stock = IN_STOCK.search(text)
    asks_stock = bool(STOCK_QUESTION.search(text))
    cues = [m.span() for r in (CHEAPER, PRICIER, MORE, COMPARE, FIRST_N, ORDINAL, BOTH)
            for m in r.finditer(text)]
    rest = blank(text, bounds.spans + cues + ([stock.span()] if stock else []))
    sizes = range_wishes(rest, vocab.ranges)
    rest = sizes.rest
    models, eans = code_tokens(rest)
    terms = find_terms(rest, vocab)
    # "ink for my hp printer" wants ink: the head type, a filter when sure, else a boost.
    product_type, boost = head_type(vocab, terms.free, embedder)
    c = Constraints(min_price=bounds.min_price, max_price=bounds.max_price, sort=bounds.sort,
                    brands=terms.brands, colours=terms.colours, facets=sorted(set(terms.facets)),
                    in_stock=bool(stock), codes=models + eans, exclude=[],
                    product_type=product_type, boost_types=boost, ranges=sizes.ranges)
    query = " ".join(content(terms.words) + [t for t in sizes.tokens if t not in terms.words])
    meaningful = [w for w in content(terms.free) if w not in VAGUE]
    focus = pick(memory, text, bool(c["codes"]))
    if focus:
        c["in_stock"] = c["in_stock"] and not asks_stock
        intent: Intent = ("compare" if COMPARE.search(text) else
                          "availability" if asks_stock else "detail")
        return Understanding(intent, query, c, focus)
    bare = not (c["codes"] or meaningful or c["brands"] or c["product_type"])
    if bare and (question := unanchored(text, memory)):  # "compare the first two", no list
        return Understanding("clarify", "", c, clarify=question)
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
    text, fixes = vocab.speller.correct(state.message) if vocab.speller else (state.message, [])
    u = await deps.blocking(interpret, text, vocab, state.memory, cfg.currency.upper() or None,
                            deps.retriever.embedder)
    return {**turn_defaults(), "owner": cfg.user_id, "intent": u.intent, "query": u.query,
            "corrections": [list(f) for f in fixes],
            "constraints": u.constraints, "focus": u.focus, "fresh": u.fresh,
            "clarify": u.clarify}


def after_understand(state: State) -> Literal["retrieve", "decide", "pages"]:
    """Router: free text may be about the shop (``pages`` decides); a vague message goes
    straight to ``decide`` for one clarifying question."""
    if wants_pages(state.intent, state.focus, state.constraints["codes"]):
        return "pages"
    return "decide" if state.intent == "clarify" else "retrieve"
