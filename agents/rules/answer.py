"""The grounded answer's sentences, one writer per intent; every figure from the live offers.

Pure functions of the state: no model, no network. Catalog text appears only as a product
title (quoted, never interpreted), so instructions hidden in descriptions have no effect.
"""

from __future__ import annotations

from agents import prompts
from agents.rules.cards import money, price_text, short, stock_text
from agents.rules.vocabulary import words
from agents.state import Candidate, Constraints, LiveOffer, State, without


def label(key: str, c: Constraints) -> str:
    """The dropped constraint in the shopper's words."""
    match key:
        case "colours":
            return f"the colour ({' or '.join(c['colours'])})"
        case "facets":
            return "the " + " and ".join(f.split("=", 1)[1] for f in c["facets"]) + " requirement"
        case "brands":
            return f"the brand ({' or '.join(b.title() for b in c['brands'])})"
        case "in_stock":
            return "the in-stock requirement"
        case "max_price":
            return f"the {money(c['max_price'] or 0)} price limit"
        case "min_price":
            return f"the {money(c['min_price'] or 0)} minimum price"
        case _:
            return f"the product type ({c['product_type']})"


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
