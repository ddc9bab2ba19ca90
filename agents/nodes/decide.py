"""decide: apply live price/stock and soft wishes, re-rank, relax when nothing survives, or ask."""

from __future__ import annotations

from typing import Any, Literal, cast

from langgraph.runtime import Runtime

from agents.context import Context
from agents.rules.answer import label
from agents.rules.compare import build_comparison, per_code
from agents.rules.describe import clarify_question
from agents.rules.ranking import (
    failures,
    live_reordered,
    next_relaxation,
    order,
    preferred,
    unmet,
)
from agents.rules.relevance import matches_all, product_words, relevant
from agents.state import Candidate, Constraints, State, without


def _focused(state: State, cands: list[Candidate], limit: int) -> list[Candidate]:
    """The SKUs the shopper pointed at, or the exact code matches that fit the wishes (colour),
    or the best few hits."""
    by_sku = {x["sku"]: x for x in cands}
    if state.focus:
        return [by_sku[s] for s in state.focus if s in by_sku]
    c = state.constraints
    exact = [x for x in cands if x["exact"]]
    pool = preferred([x for x in exact if not failures(x, None, c, [])] or exact, c) or cands
    return order(pool, state.offers, c, state.query)[:limit]


async def decide(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """The SKUs to show, in order, plus what the responder must say about how they were chosen."""
    cfg = runtime.context.cfg
    counters = runtime.context.deps.counters
    if state.intent == "clarify":
        counters.clarifications += 1
        if state.clarify:  # understand already knows what to ask (which products? which money?)
            return {"ranked": []}
        vocab = await runtime.context.deps.vocabulary.get(cfg.tenant)
        return {"clarify": clarify_question(vocab.examples), "ranked": []}
    offers = state.offers
    # A SKU the SoR no longer has was deleted since indexing: never show that ghost.
    cands = [x for x in state.candidates if state.live != "ok" or x["sku"] in offers]
    if state.intent == "compare":
        picked = per_code(state, cands) or _focused(state, cands, 3 if state.focus else 2)
        return {"ranked": [x["sku"] for x in picked],
                "comparison": build_comparison(picked, offers) if len(picked) >= 2 else None}
    if state.focus or (state.intent == "availability" and any(x["exact"] for x in cands)):
        return {"ranked": [x["sku"] for x in _focused(state, cands, cfg.max_results)]}
    c, dropped, relaxed = state.constraints, list(state.dropped), list(state.relaxed)
    kept = without(c, dropped)
    wanted = product_words(state.query, kept)
    cands = relevant(cands, wanted, kept["product_type"], kept["boost_types"], state.message)
    if c["sort"] != "relevance":  # a price order must not pull in the cheapest anything
        cands = matches_all(cands, wanted) or cands
    while True:
        alive = [x for x in cands if not failures(x, offers.get(x["sku"]), c, dropped)]
        missing = unmet(alive, without(c, dropped)) if alive else []
        if alive and not missing:
            break
        if missing:  # some fit, none shows the colour/feature: say so rather than pretend
            key: str | None = sorted(missing, key=lambda k: k in state.fresh)[0]
        elif len(dropped) >= cfg.max_relaxations:
            break
        else:
            key = next_relaxation(cands, offers, c, dropped, state.fresh)
        if key is None:
            break
        counters.relaxations += 1
        dropped.append(key)
        relaxed.append(label(key, c, await runtime.context.currency()))
        if not cands:  # the index filter itself found nothing: search again without it
            return {"dropped": dropped, "relaxed": relaxed, "retry": True, "candidates": []}
    effective = without(c, dropped)
    alive = preferred(alive, effective)
    if "max_price" in dropped:  # nearest to the budget first
        effective = cast(Constraints, {**effective, "sort": "price_asc"})
    shown = order(alive, offers, effective, state.query)[: cfg.max_results]
    reordered = (effective["sort"] != "relevance" and state.live == "ok"
                 and live_reordered(shown, preferred(alive, effective)))
    return {"ranked": [x["sku"] for x in shown], "dropped": dropped, "relaxed": relaxed,
            "retry": False, "reordered": reordered}


def after_decide(state: State) -> Literal["retrieve", "respond"]:
    """Router: search again after dropping an index filter, else write the answer."""
    return "retrieve" if state.retry else "respond"
