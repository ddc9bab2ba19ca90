"""respond: the deterministic, grounded answer (sentences plus cards) from live data only.

No model and no network: every figure in the text is copied from this turn's live offers, and
catalog text is only ever quoted as a product title, never interpreted.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents import prompts
from agents.cards import card, price_text, short, stock_text, why
from agents.decide import money
from agents.deps import Context
from agents.state import Candidate, Constraints, LiveOffer, Memory, Shown, State, without
from agents.vocabulary import words


def _name(c: Candidate) -> str:
    return f"the {short(c['title'])} (SKU {c['sku']})"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _what(state: State) -> str:
    """The search words, minus those the wish tail says again or that were given up."""
    c = state.constraints
    hidden = set(c["colours"])
    if "facets" in state.dropped:
        hidden.update(w for f in c["facets"] for w in words(f.split("=", 1)[1]).split())
    if "brands" in state.dropped:
        hidden.update(w for b in c["brands"] for w in words(b).split())
    query = " ".join(w for w in state.query.split() if w not in hidden)
    return f"“{query}”" if query else "your request"


def _wish(c: Constraints) -> str:
    """" under $30 that's in stock"-style tail describing what was asked."""
    parts = []
    if c["colours"]:
        parts.append("in " + " or ".join(c["colours"]))
    if c["min_price"] is not None and c["max_price"] is not None:
        parts.append(f"between {money(c['min_price'])} and {money(c['max_price'])}")
    elif c["max_price"] is not None:
        parts.append(f"under {money(c['max_price'])}")
    elif c["min_price"] is not None:
        parts.append(f"over {money(c['min_price'])}")
    if c["in_stock"]:
        parts.append("that's in stock")
    return (" " + " ".join(parts)) if parts else ""


def _others(rest: list[Candidate], offers: dict[str, LiveOffer]) -> str:
    if not rest:
        return ""
    items = [f"{_name(x)} at {price_text(offers.get(x['sku']))}, "
             f"{stock_text(offers.get(x['sku']))}" for x in rest]
    return " Also worth a look: " + "; ".join(items) + "."


def _search(state: State, shown: list[Candidate]) -> str:
    c, offers = without(state.constraints, state.dropped), state.offers
    what = _what(state)
    text = ""
    if state.relaxed:
        dropped = " and ".join(state.relaxed)
        text = f"Nothing matched everything you asked for, so I dropped {dropped}. "
    if not shown:
        hint = (" Try a wider budget, another brand or fewer requirements." if _wish(c)
                or c["brands"] else " We may not carry it; try describing it another way.")
        return text + f"Sorry, I couldn't find anything matching {what}{_wish(c)}." + hint
    top, o = shown[0], offers.get(shown[0]["sku"])
    if "max_price" in state.dropped:
        lead = f"The lowest-priced match for {what}{_wish(c)} is"
    elif c["sort"] == "price_asc":
        lead = f"The cheapest match for {what}{_wish(c)} is"
    elif state.intent == "availability":
        lead = "The closest match I found is"
    else:
        lead = f"For {what}{_wish(c)}, my top pick is"
    text += f"{lead} {_name(top)} at {price_text(o)}, {stock_text(o, warehouses=True)}."
    return text + _others(shown[1:3], offers)


def _availability(state: State, shown: list[Candidate]) -> str:
    top, offers = shown[0], state.offers
    o = offers.get(top["sku"])
    status = stock_text(o, warehouses=True)
    if o is None or o["quantity"] is None:
        text = f"I can't confirm stock for {_name(top)} right now: {status}."
    elif o["in_stock"]:
        text = f"Yes, {_name(top)} is {status}, at {price_text(o)}."
    else:
        text = f"Sorry, {_name(top)} is {status} right now (price {price_text(o)})."
        alt = [x for x in shown[1:] if (a := offers.get(x["sku"])) and a["in_stock"]]
        if alt:
            a = offers.get(alt[0]["sku"])
            return text + f" {_cap(_name(alt[0]))} is {stock_text(a)}, at {price_text(a)}."
    return text + _others(shown[1:3], offers)


def _detail(state: State, shown: list[Candidate]) -> str:
    top, o = shown[0], state.offers.get(shown[0]["sku"])
    by = f" by {top['brand']}" if top["brand"] else ""
    text = f"{_cap(_name(top))}{by} is {price_text(o)}, {stock_text(o, warehouses=True)}."
    specs = [f"{k}: {v}" for k, v in top["specs"].items() if k != "model"][:4]
    if specs:
        text += " Key specs: " + "; ".join(specs) + "."
    return text + _others(shown[1:3], state.offers)


def _lookup(state: State, shown: list[Candidate]) -> str:
    """A named code: the matching product's facts (after any relaxation note)."""
    if not shown:
        return _search(state, shown)
    note = f"Nothing matched everything you asked for, so I dropped {' and '.join(state.relaxed)}. "
    return (note if state.relaxed else "") + _detail(state, shown)


def _compare(state: State, shown: list[Candidate]) -> str:
    cmp = state.comparison
    if not cmp:
        return "I need two products to compare. Which ones do you mean?"
    by_sku = {x["sku"]: x for x in shown}
    facts = [f"{_name(by_sku[i['sku']])} is {price_text(state.offers.get(i['sku']))}, "
             f"{stock_text(state.offers.get(i['sku']))}" for i in cmp["items"]]
    text = "Side by side: " + "; ".join(facts) + "."
    if cmp["cheapest"]:
        text += f" The {short(by_sku[cmp['cheapest']]['title'])} is ${cmp['saving']} cheaper."
    diffs = [f"{d['attribute']} ({' vs '.join(d['values'])})" for d in cmp["differences"][:4]]
    if diffs:
        text += " They differ in " + "; ".join(diffs) + "."
    return text


WRITERS = {"search": _search, "lookup": _lookup, "availability": _availability,
           "detail": _detail, "compare": _compare}


def write(state: State, shown: list[Candidate]) -> str:
    """The grounded answer for this turn (pure; the scenario tests check it word for word)."""
    if state.intent == "clarify":
        return state.clarify
    intent = state.intent
    if intent in ("lookup", "availability") and not any(x["exact"] for x in shown):
        intent = "search"
    if intent in ("availability", "detail") and not shown:
        intent = "search"
    text = WRITERS[intent](state, shown)
    if shown and state.live == "unavailable":
        cached = any((o := state.offers.get(x["sku"])) and o["quantity"] is not None
                     for x in shown)
        text += " " + (prompts.LIVE_DOWN_CACHED.format(ttl="a few seconds") if cached
                       else prompts.LIVE_DOWN)
        c = state.constraints
        if c["max_price"] is not None or c["min_price"] is not None:
            text += prompts.LIVE_DOWN_BOUNDS
    if any((o := state.offers.get(x["sku"])) and o["synthetic"] for x in shown):
        text += prompts.SYNTHETIC
    return text


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
    cards = []
    for x in shown:
        o = state.offers.get(x["sku"])
        reason = why(x, o, c, state.intent, state.query)
        cards.append(card(x, o, reason).model_dump(mode="json"))
    text = write(state, shown)
    out: dict[str, Any] = {"answer": text, "cards": cards, "memory": remember(state, shown)}
    if not (cfg.use_llm and runtime.context.deps.llm is not None):
        out["final"] = text
        out["turns"] = [{"role": "user", "content": state.message},
                        {"role": "assistant", "content": text, "skus": state.ranked}]
    return out
