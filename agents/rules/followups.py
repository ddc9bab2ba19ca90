"""Follow-ups: which earlier products a message points at, and how it refines the last search."""

from __future__ import annotations

import re
from typing import cast

from agents import prompts
from agents.rules.parsing import (
    BOTH,
    CHEAPER,
    COMPARE,
    FIRST_N,
    MORE,
    ORDINAL,
    PRICIER,
    PRONOUN,
    STOCK_QUESTION,
    ordinals,
)
from agents.rules.terms import VAGUE, Terms, content
from agents.rules.vocabulary import words
from agents.state import Constraints, Memory, no_constraints


def refine(memory: Memory, c: Constraints, text: str, terms: Terms) -> tuple[str, Constraints]:
    """Carry the previous turn into a follow-up, changed by what this message says."""
    old = memory["constraints"]
    prices = [s["price"] for s in memory["shown"] if s["price"] is not None]
    blank = no_constraints()  # a thread remembered by an older version may lack newer keys
    merged = cast(Constraints, {k: old.get(k, v) for k, v in blank.items()})
    merged["codes"], merged["exclude"] = [], []
    merged["brands"] = terms.brands or old["brands"]
    merged["colours"] = terms.colours or old["colours"]
    merged["facets"] = sorted({*old["facets"], *terms.facets})
    merged["in_stock"] = old["in_stock"] or c["in_stock"]
    merged["ranges"] = {**old.get("ranges", {}), **c["ranges"]}
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


def pick(memory: Memory | None, text: str, named: bool) -> list[str]:
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


# "the cheaper one", "the other one": a product of an earlier answer, by what sets it apart.
REFERS = re.compile(r"\b(?:cheaper|cheapest|pricier|other|last|same|(?:more|less)\s+expensive)"
                    r"\s+(?:one|of\s+(?:the|them))\b", re.I)


def unanchored(text: str, memory: Memory | None) -> str:
    """The question to ask when the text points at earlier products but no answer showed any
    ("compare the first two" to open a conversation), else ""."""
    if memory and memory["shown"]:
        return ""
    if COMPARE.search(text):
        return prompts.REFER_COMPARE
    if any(r.search(text) for r in (FIRST_N, ORDINAL, BOTH, REFERS, PRONOUN)):
        return prompts.REFER_ONE
    return ""
