"""Pure rules behind ``decide``: which constraints a candidate fails, what to relax, final order.

Price and stock are judged on the live offer only. Colour and attribute wishes are soft:
a SKU is ruled out only when its own data contradicts them (it is black, not white).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from agents.rules.vocabulary import STRICT_FACET_KEYS, words
from agents.state import Candidate, Constraints, LiveOffer
from search.units import CANONICAL

# Weakest first: what a shopper gives up most readily when nothing fits.
# The product type goes last: it is the thing asked for. Given up, it stays a boost, and
# words the question shares with no hit still rule hits out ("espresso machine" in a shop
# without coffee machines is "nothing matches", not a mouse).
RELAX_ORDER = ("colours", "facets", "ranges", "in_stock", "max_price", "min_price", "brands",
               "product_type")
# Filters applied in the index: with no candidates at all, only dropping one of these can help.
INDEX = frozenset({"brands", "max_price", "min_price", "ranges", "product_type"})


def price_of(offer: LiveOffer | None) -> float | None:
    return float(offer["price"]) if offer and offer["price"] is not None else None


def _has(haystack: str, phrase: str) -> bool:
    return f" {phrase} " in f" {haystack} "


def colour_match(cand: Candidate, colours: list[str]) -> bool | None:
    """True if the SKU is one of the colours, False if it is another colour, None if unknown."""
    if not colours:
        return True
    title = words(cand["title"])
    values = [words(f.split("=", 1)[1]) for f in cand["facets"]]
    own = [c for c in cand["colours"] if c not in ("yes", "no")]  # importer noise, not colours
    for colour in colours:
        if colour in own or _has(title, colour) or any(_has(v, colour) for v in values):
            return True
    return False if own else None


def facet_match(cand: Candidate, facets: list[str]) -> tuple[int, bool]:
    """(how many attribute wishes the SKU shows, whether its data contradicts a strict one)."""
    if not facets:
        return 0, False
    hits, conflict = 0, False
    title = words(cand["title"])
    own = {f.split("=", 1)[0]: words(f.split("=", 1)[1]) for f in cand["facets"]}
    for facet in facets:
        key, value = facet.split("=", 1)
        value = words(value)
        if facet in cand["facets"] or _has(title, value) or _has(own.get(key, ""), value):
            hits += 1
        elif key in STRICT_FACET_KEYS and key in own:
            conflict = True
    return hits, conflict


def failures(cand: Candidate, offer: LiveOffer | None, c: Constraints, dropped: Iterable[str]
             ) -> set[str]:
    """The constraints this candidate fails; unknown price or stock fails nothing."""
    out = set()
    if colour_match(cand, c["colours"]) is False:
        out.add("colours")
    if facet_match(cand, c["facets"])[1]:
        out.add("facets")
    price = price_of(offer)
    if price is not None and c["max_price"] is not None and price > c["max_price"]:
        out.add("max_price")
    if price is not None and c["min_price"] is not None and price < c["min_price"]:
        out.add("min_price")
    if c["in_stock"] and offer is not None and offer["in_stock"] is False:
        out.add("in_stock")
    return out - set(dropped)


def wished(cand: Candidate, c: Constraints) -> bool:
    """True when the SKU visibly has every colour and attribute wish (not just no conflict)."""
    return bool(colour_match(cand, c["colours"])) and (
        facet_match(cand, c["facets"])[0] == len(c["facets"]))


def preferred(cands: list[Candidate], c: Constraints) -> list[Candidate]:
    """Only the SKUs that show the wishes, when any do; else all (``decide`` then relaxes)."""
    return [x for x in cands if wished(x, c)] or cands


def is_set(c: Constraints, key: str) -> bool:
    value = c.get(key)  # older checkpoints may lack newer keys
    return value is not None and value is not False and value != [] and value != {}


def next_relaxation(cands: list[Candidate], offers: Mapping[str, LiveOffer], c: Constraints,
                    dropped: list[str], fresh: Iterable[str] = ()) -> str | None:
    """The weakest constraint that is actually ruling candidates out (or, with no candidates
    at all, the weakest index filter), or None when nothing is left to give up. Wishes the
    shopper just stated (``fresh``) are given up last."""
    stated = set(fresh)
    active = sorted((k for k in RELAX_ORDER if is_set(c, k) and k not in dropped),
                    key=lambda k: (k in stated, RELAX_ORDER.index(k)))
    counts = Counter(f for x in cands for f in failures(x, offers.get(x["sku"]), c, dropped))
    for key in active:
        if counts[key]:
            return key
    return None if cands else next((k for k in active if k in INDEX), None)


def overlap(cand: Candidate, query: str) -> float:
    """Share of the title's words the shopper typed: "HP 364 black" prefers "...Original Black"
    over "...Original Photo black"."""
    title = set(words(cand["title"]).split())
    return len(title & set(query.split())) / len(title) if title and query else 0.0


# A short code a shopper types ("i3", "a4", "ddr4"): letters and digits, at most four characters.
_SHORT_CODE = re.compile(r"(?=[a-z]*\d)(?=\d*[a-z])[a-z\d]{2,4}")


def short_codes_match(cand: Candidate, query: str) -> bool:
    """True when the title names every short code of the query: "core i3" is not an i5."""
    codes = [w for w in query.split() if _SHORT_CODE.fullmatch(w) and not CANONICAL.fullmatch(w)]
    title = words(cand["title"])
    return bool(codes) and all(_has(title, code) for code in codes)


def score(cand: Candidate, offer: LiveOffer | None, c: Constraints, query: str = "") -> float:
    """Retrieval rank first; exact codes, matched wishes and stock on hand break ties upward."""
    value = 1.0 / (cand["rank"] + 2) + 0.2 * overlap(cand, query)
    value += 0.3 if short_codes_match(cand, query) else 0.0
    value += 1.0 if cand["exact"] else 0.0
    value += 0.3 if c["colours"] and colour_match(cand, c["colours"]) else 0.0
    value += 0.15 * facet_match(cand, c["facets"])[0]
    return value + (0.05 if offer and offer["in_stock"] else 0.0)


def order(cands: list[Candidate], offers: Mapping[str, LiveOffer], c: Constraints,
          query: str = "") -> list[Candidate]:
    """Best first; "cheapest" sorts every relevant survivor by live price (the candidates
    came from the index's price order, so that is the whole catalog's cheapest), ties and
    SKUs without a live price in the index's order."""
    ranked = sorted(cands, key=lambda x: -score(x, offers.get(x["sku"]), c, query))
    if c["sort"] == "relevance":  # a top pick should be one the shopper can buy now
        return sorted(ranked, key=lambda x: (o := offers.get(x["sku"])) is not None
                      and o["in_stock"] is False)
    pool = sorted(preferred(ranked, c), key=lambda x: x["rank"])
    sign = 1.0 if c["sort"] == "price_asc" else -1.0
    known = sorted((x for x in pool if price_of(offers.get(x["sku"])) is not None),
                   key=lambda x: sign * (price_of(offers.get(x["sku"])) or 0.0))
    return known + [x for x in pool if x not in known]


def live_reordered(shown: list[Candidate], pool: list[Candidate]) -> bool:
    """True when live prices moved SKUs of the index's price order: the shown ones from that
    read are not the first of it in its own order (prices changed since indexing)."""
    indexed = sorted((x for x in pool if x.get("by_price")), key=lambda x: x["rank"])
    mine = [x["sku"] for x in shown if x.get("by_price")]
    return bool(mine) and mine != [x["sku"] for x in indexed[: len(mine)]]


def unmet(alive: list[Candidate], c: Constraints) -> list[str]:
    """Wishes (colour, attributes) to give up when no surviving SKU visibly has them all."""
    if any(wished(x, c) for x in alive):
        return []
    return [k for k, v in (("colours", c["colours"]), ("facets", c["facets"])) if v]
