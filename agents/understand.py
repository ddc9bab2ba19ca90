"""understand: intent and constraints, resolved against the catalog vocabulary and the last turn."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.runtime import Runtime

from agents.deps import Context
from agents.parsing import (
    BOTH,
    CHEAPER,
    COMPARE,
    FIRST_N,
    FOLLOW_UP,
    IN_STOCK,
    MORE,
    ORDINAL,
    PRICIER,
    PRONOUN,
    STOCK_QUESTION,
    blank,
    ordinals,
    price_bounds,
)
from agents.ranking import RELAX_ORDER, is_set
from agents.retrieval import code_tokens
from agents.state import Constraints, Intent, Memory, State, no_constraints, turn_defaults
from agents.terms import Terms, find_terms
from agents.vocabulary import Vocabulary, words
from catalog.errors import Forbidden
from catalog.importers.categories import categorise


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP = _wordset(
    "a an the i im me my we our you your it its is are am be was do does did have has had any "
    "some show find want need needs looking look search please can could would like get buy "
    "to of in on at by and or for with without what which how about one ones that thats this "
    "these those there s t there here give tell know see now just also only really very much "
    "many more most well ok okay hi hello hey thanks thank sell sold got us available "
    "availability stock stocked left"
)
# Words that carry no product meaning: a message made only of these is too vague to search.
VAGUE = _wordset(
    "something anything nice good great cool best better new thing things stuff item items "
    "product products gift present recommend recommendation suggest suggestion help idea "
    "ideas option options else whatever cheap"
)


@dataclass
class Understanding:
    """What ``understand`` concluded about one message."""

    intent: Intent
    query: str
    constraints: Constraints
    focus: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)


def content(tokens: list[str]) -> list[str]:
    """The words worth sending to retrieval."""
    return [w for w in tokens if w not in STOP and (len(w) > 1 or w.isdigit())]


def _refine(memory: Memory, c: Constraints, text: str, terms: Terms) -> tuple[str, Constraints]:
    """Carry the previous turn into a follow-up, changed by what this message says."""
    old = memory["constraints"]
    prices = [s["price"] for s in memory["shown"] if s["price"] is not None]
    merged = Constraints(**{**old, "codes": [], "exclude": []})
    merged["brands"] = terms.brands or old["brands"]
    merged["colours"] = terms.colours or old["colours"]
    merged["facets"] = sorted({*old["facets"], *terms.facets})
    merged["in_stock"] = old["in_stock"] or c["in_stock"]
    if c["max_price"] is not None or c["min_price"] is not None:
        merged["max_price"], merged["min_price"] = c["max_price"], c["min_price"]
    if c["sort"] != "relevance":
        merged["sort"] = c["sort"]
    if CHEAPER.search(text) and prices:  # cheaper than the top pick shown last time
        merged["max_price"], merged["min_price"] = round(prices[0] - 0.01, 2), None
        merged["sort"] = "price_desc"  # the nearest cheaper ones first
    if PRICIER.search(text) and prices:
        merged["min_price"], merged["max_price"] = round(max(prices) + 0.01, 2), None
        merged["sort"] = "price_asc"
    if MORE.search(text):
        merged["exclude"] = [s["sku"] for s in memory["shown"]]
    replaced = set()
    if terms.colours:
        replaced.update(old["colours"])
    if terms.brands:
        replaced.update(w for b in old["brands"] for w in words(b).split())
    kept = [w for w in memory["query"].split() if w not in replaced]
    added = [w for w in content(terms.words) if w not in kept and w not in VAGUE
             and not CHEAPER.search(w) and not PRICIER.search(w)]
    return " ".join(kept + added), merged


def _pick(memory: Memory | None, text: str, named: bool) -> list[str]:
    """SKUs of the previous answer that the text points at ("the second one", "these two");
    none when the text ``named`` products by code itself."""
    if not memory or not memory["shown"] or named:
        return []
    shown = [s["sku"] for s in memory["shown"]]
    if first := FIRST_N.search(text):
        return shown[: {"two": 2, "three": 3}.get(first.group(1).lower()) or int(first.group(1))]
    picked = [shown[n - 1] if n > 0 else shown[-1] for n in ordinals(text) if n <= len(shown)]
    if picked:
        return list(dict.fromkeys(picked))
    if COMPARE.search(text) or BOTH.search(text):
        return shown[:2] if re.search(r"\btwo\b|\bboth\b", text, re.I) else shown[:3]
    if PRONOUN.search(text) and STOCK_QUESTION.search(text):
        return shown[:1]
    return []


def interpret(message: str, vocab: Vocabulary, memory: Memory | None = None) -> Understanding:
    """Intent, retrieval text and constraints of one message (pure: unit-tested as a table)."""
    text = " ".join(message.split())
    bounds = price_bounds(text)
    stock = IN_STOCK.search(text)
    asks_stock = bool(STOCK_QUESTION.search(text))
    cues = [m.span() for r in (CHEAPER, PRICIER, MORE, COMPARE, FIRST_N, ORDINAL, BOTH)
            for m in r.finditer(text)]
    rest = blank(text, bounds.spans + cues + ([stock.span()] if stock else []))
    models, eans = code_tokens(rest)
    terms = find_terms(rest, vocab)
    # "ink for my hp printer" is about ink: the category comes from before "for". A category
    # the shop lacks is kept (the answer is then "nothing matches"); with no vocabulary (SoR
    # down when it was to be read) there is no telling, so no category filter at all.
    head = re.split(r"\bfor\b", rest, maxsplit=1, flags=re.I)[0]
    category = categorise(head if head.strip() else rest)
    c = Constraints(min_price=bounds.min_price, max_price=bounds.max_price, sort=bounds.sort,
                    brands=terms.brands, colours=terms.colours, facets=sorted(set(terms.facets)),
                    in_stock=bool(stock), codes=models + eans, exclude=[],
                    category=category if vocab.skus else None)
    query = " ".join(content(terms.words))
    meaningful = [w for w in content(terms.free) if w not in VAGUE]
    focus = _pick(memory, text, bool(c["codes"]))
    if focus:
        c["in_stock"] = c["in_stock"] and not asks_stock
        intent: Intent = ("compare" if COMPARE.search(text) else
                          "availability" if asks_stock else "detail")
        return Understanding(intent, query, c, focus)
    cue = any(r.search(text) for r in (FOLLOW_UP, CHEAPER, PRICIER, MORE))
    if memory and not c["codes"] and not meaningful and (cue or c != no_constraints()):
        query, merged = _refine(memory, c, text, terms)
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
    if not meaningful and not c["brands"] and not c["category"]:
        return Understanding("clarify", "", c)
    return Understanding("search", query, c)


async def understand(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Graph node: reset the per-turn fields and read the message (threads are owner-only)."""
    cfg = runtime.context.cfg
    if state.owner and state.owner != cfg.user_id:
        raise Forbidden("this conversation belongs to another user")
    vocab = await runtime.context.deps.vocabulary.get(cfg.tenant)
    u = interpret(state.message, vocab, state.memory)
    return {**turn_defaults(), "owner": cfg.user_id, "intent": u.intent, "query": u.query,
            "constraints": u.constraints, "focus": u.focus, "fresh": u.fresh}


def after_understand(state: State) -> Literal["retrieve", "decide"]:
    """Router: a vague message goes straight to ``decide`` for one clarifying question."""
    return "decide" if state.intent == "clarify" else "retrieve"
