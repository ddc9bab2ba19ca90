"""Side-by-side facts of two or three SKUs: live price and stock, and the specs that differ."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from agents.rules.ranking import order
from agents.state import Candidate, LiveOffer, State
from search import normalise_model

MAX_ROWS = 8


def build_comparison(cands: list[Candidate], offers: Mapping[str, LiveOffer]) -> dict[str, Any]:
    """Items with live facts, differing specs, shared specs, and which is cheaper by how much."""
    items = []
    for c in cands:
        o = offers.get(c["sku"])
        items.append({
            "sku": c["sku"], "title": c["title"], "brand": c["brand"],
            "price": o["price"] if o else None, "price_display": o["display"] if o else None,
            "availability": o["availability"] if o else "unknown",
            "in_stock": o["in_stock"] if o else None,
        })
    keys = list(dict.fromkeys(k for c in cands for k in c["specs"]))
    differences, shared = [], []
    for key in keys:
        values = [c["specs"].get(key, "not stated") for c in cands]
        if len(set(values)) > 1:
            differences.append({"attribute": key, "values": values})
        else:
            shared.append({"attribute": key, "value": values[0]})
    out: dict[str, Any] = {"items": items, "differences": differences[:MAX_ROWS],
                           "shared": shared[:4], "cheapest": None, "saving": None}
    prices = [Decimal(i["price"]) if i["price"] is not None else None for i in items]
    known = [p for p in prices if p is not None]
    if len(known) == len(items) >= 2 and len(set(known)) > 1:
        low = min(known)
        out["cheapest"] = items[prices.index(low)]["sku"]
        out["saving"] = str(sorted(known)[1] - low)
    return out


def per_code(state: State, cands: list[Candidate]) -> list[Candidate]:
    """"compare the M100 and M500": the best SKU for each named code, when there are two+."""
    codes = [normalise_model(code) for code in state.constraints["codes"]]
    if len(codes) < 2 or state.focus:
        return []
    ranked = order([x for x in cands if x["exact"]], state.offers, state.constraints,
                   state.query)
    picked = []
    for code in codes:
        match = next((x for x in ranked if code in (normalise_model(x["model"]),
                                                    normalise_model(x["sku"]))), None)
        if match and match not in picked:
            picked.append(match)
    return picked if len(picked) >= 2 else []
