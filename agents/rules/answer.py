"""The grounded answer's sentences, one writer per intent; every figure from the live offers.

Pure functions of the state: no model, no network. Catalog text appears only as a product
title (quoted, never interpreted), so instructions hidden in descriptions have no effect.
"""

from __future__ import annotations

from agents import prompts
from agents.rules.cards import price_text, short, stock_text
from agents.rules.describe import Wording, brand_name, wording
from agents.rules.money import money
from agents.rules.wishes import describe
from agents.state import Candidate, Constraints, LiveOffer, State, without
from search.units import CANONICAL


def label(key: str, c: Constraints, currency: str | None = None) -> str:
    """The dropped constraint in the shopper's words."""
    match key:
        case "colours":
            return f"the colour ({' or '.join(c['colours'])})"
        case "facets":
            return "the " + " and ".join(f.split("=", 1)[1] for f in c["facets"]) + " requirement"
        case "brands":
            return f"the brand ({' or '.join(brand_name(b, {}) for b in c['brands'])})"
        case "in_stock":
            return "the in-stock requirement"
        case "max_price":
            return f"the {money(c['max_price'] or 0, currency)} price limit"
        case "min_price":
            return f"the {money(c['min_price'] or 0, currency)} minimum price"
        case "ranges":
            return f"the size ({describe(c.get('ranges') or {})})"
        case _:
            return f"the product type ({c['product_type']})"


def _name(c: Candidate) -> str:
    return f"the {short(c['title'])} (SKU {c['sku']})"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _wording(state: State, shown: list[Candidate], currency: str | None) -> Wording:
    """The request as understood, minus what was given up (the wording shows what holds)."""
    c = without(state.constraints, state.dropped)
    brands = {x["brand"].lower(): x["brand"] for x in shown if x["brand"]}
    return wording(c, _said(state.query), state.message, currency, brands)


def _said(query: str) -> str:
    """The retrieval words without the canonical size tokens added beside the typed size
    ("27 inch 27in" -> "27 inch"; a typed "16gb" stays)."""
    typed = query.split()
    return " ".join(w for w in typed if not (CANONICAL.fullmatch(w) and _number(w) in typed))


def _number(token: str) -> str:
    return token[: len(token) - len(token.lstrip("0123456789"))]


def showing(state: State) -> str:
    """"Showing results for wireless keyboard. " when the speller changed a word, else ""."""
    if not state.corrections:
        return ""
    what = _said(state.query) or " ".join(fixed for _, fixed in state.corrections)
    return f"Showing results for {what}. "


def _others(rest: list[Candidate], offers: dict[str, LiveOffer]) -> str:
    if not rest:
        return ""
    items = [f"{_name(x)} at {price_text(offers.get(x['sku']))}, "
             f"{stock_text(offers.get(x['sku']))}" for x in rest]
    return " Also worth a look: " + "; ".join(items) + "."


def _search(state: State, shown: list[Candidate], currency: str | None = None) -> str:
    c, offers = without(state.constraints, state.dropped), state.offers
    w = _wording(state, shown, currency)
    text = ""
    if state.relaxed:
        dropped = " and ".join(state.relaxed)
        text = f"Nothing matched everything you asked for, so I dropped {dropped}. "
    if not shown:
        hint = (" Try a wider budget, another brand or fewer requirements." if w.price
                or c["brands"] or c["in_stock"] else
                " We may not carry it; try describing it another way.")
        what = (f"anything matching “{w.noun}”" + (f" {w.price}" if w.price else "")
                if w.own and not w.adjectives else
                f"any {w.phrase(many=True)}" if w.phrase(many=True) else "anything like that")
        return text + f"Sorry, I couldn't find {what}." + hint
    if state.live == "unavailable":
        return text + _unchecked(state, shown, w)
    top, o = shown[0], offers.get(shown[0]["sku"])
    one = w.phrase(many=False) or "match"
    if "max_price" in state.dropped:
        lead = f"The lowest-priced {one} I found is"
    elif c["sort"] == "price_asc":
        lead = f"The cheapest {one} is"
    elif c["sort"] == "price_desc":
        lead = f"The most expensive {one} is"
    elif state.intent == "availability":
        lead = "The closest match I found is"
    elif many := w.phrase(many=True):
        lead = f"For {many}, my top pick is"
    else:
        lead = "My top pick is"
    text += f"{lead} {_name(top)} at {price_text(o)}, {stock_text(o, warehouses=True)}."
    text += _others(shown[1:3], offers)
    return text + (prompts.REORDERED if state.reordered else "")


def _unchecked(state: State, shown: list[Candidate], w: Wording) -> str:
    """No live data: name what was found without claiming the budget, stock or order held."""
    cached = any((o := state.offers.get(x["sku"])) and o["quantity"] is not None for x in shown)
    many = w.phrase(many=True, checked=False)
    names = [_name(x) + (f", {stock_text(state.offers.get(x['sku']))}" if cached else "")
             for x in shown[:3]]
    listed = names[0] if len(names) == 1 else "; ".join(names[:-1]) + " and " + names[-1]
    text = f"Here is what I found{' for ' + many if many else ''}: {listed}."
    checks = [p for p in (w.price, "in stock" if w.in_stock else "") if p]
    it = "it is" if len(names) == 1 else "they are"
    what = f"that {it} {' and '.join(checks)}" if checks else "prices or stock"
    if cached:
        text += " " + prompts.LIVE_DOWN_CACHED.format(ttl="a few seconds")
        if w.price:
            text += prompts.LIVE_DOWN_BOUNDS
    else:
        text += prompts.LIVE_DOWN_UNCHECKED.format(what=what)
    if state.constraints["sort"] != "relevance":
        text += prompts.LIVE_DOWN_ORDER
    return text


def _availability(state: State, shown: list[Candidate], currency: str | None = None
                  ) -> str:
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


def _detail(state: State, shown: list[Candidate], currency: str | None = None) -> str:
    top, o = shown[0], state.offers.get(shown[0]["sku"])
    by = f" by {top['brand']}" if top["brand"] else ""
    text = f"{_cap(_name(top))}{by} is {price_text(o)}, {stock_text(o, warehouses=True)}."
    specs = [f"{k}: {v}" for k, v in top["specs"].items() if k != "model"][:4]
    if specs:
        text += " Key specs: " + "; ".join(specs) + "."
    return text + _others(shown[1:3], state.offers)


def _lookup(state: State, shown: list[Candidate], currency: str | None = None) -> str:
    """A named code: the matching product's facts (after any relaxation note)."""
    if not shown:
        return _search(state, shown, currency)
    note = f"Nothing matched everything you asked for, so I dropped {' and '.join(state.relaxed)}. "
    return (note if state.relaxed else "") + _detail(state, shown)


def _compare(state: State, shown: list[Candidate], currency: str | None = None) -> str:
    cmp = state.comparison
    if not cmp:
        return "I need two products to compare. Which ones do you mean?"
    by_sku = {x["sku"]: x for x in shown}
    facts = [f"{_name(by_sku[i['sku']])} is {price_text(state.offers.get(i['sku']))}, "
             f"{stock_text(state.offers.get(i['sku']))}" for i in cmp["items"]]
    text = "Side by side: " + "; ".join(facts) + "."
    if cmp["cheapest"]:
        o = state.offers.get(cmp["cheapest"])
        gap = money(float(cmp["saving"]), o["currency"] if o else currency, cents=True)
        text += f" The {short(by_sku[cmp['cheapest']]['title'])} is {gap} cheaper."
    diffs = [f"{d['attribute']} ({' vs '.join(d['values'])})" for d in cmp["differences"][:4]]
    if diffs:
        text += " They differ in " + "; ".join(diffs) + "."
    return text


WRITERS = {"search": _search, "lookup": _lookup, "availability": _availability,
           "detail": _detail, "compare": _compare}


def write(state: State, shown: list[Candidate], currency: str | None = None) -> str:
    """The grounded answer for this turn (pure; the scenario tests check it word for word);
    ``currency`` is the shop's, for the shopper's own limits (live figures carry theirs)."""
    if state.intent == "clarify":
        return state.clarify
    intent = state.intent
    if intent in ("lookup", "availability") and not any(x["exact"] for x in shown):
        intent = "search"
    if intent in ("availability", "detail") and not shown:
        intent = "search"
    text = showing(state) + WRITERS[intent](state, shown, currency)
    if shown and state.live == "unavailable" and intent != "search":
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
