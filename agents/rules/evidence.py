"""Assist mode's evidence: the shown SKUs' live facts and every retrieval hit, with why."""

from __future__ import annotations

from typing import Any

MAX_HITS = 10


def evidence(values: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per retrieval hit (shown ones first): live price/stock per warehouse and why."""
    offers = values.get("offers", {})
    cards = {c["sku"]: c for c in values.get("cards", [])}
    ranked = values.get("ranked", [])
    hits = sorted(values.get("candidates", []),
                  key=lambda c: (c["sku"] not in cards, ranked.index(c["sku"])
                                 if c["sku"] in ranked else c["rank"]))
    out = []
    for c in hits[: max(MAX_HITS, len(cards))]:
        o = offers.get(c["sku"])
        out.append({
            "sku": c["sku"], "title": c["title"], "brand": c["brand"], "shown": c["sku"] in cards,
            "retrieval": {"rank": c["rank"], "score": round(c["score"], 4), "exact": c["exact"]},
            "why": cards[c["sku"]]["why"] if c["sku"] in cards else "retrieved, not shown",
            "live": None if o is None else {
                "price": o["price"], "currency": o["currency"], "availability": o["availability"],
                "quantity": o["quantity"], "warehouses": o["warehouses"],
                "synthetic": o["synthetic"], "as_of": o["as_of"]},
        })
    return out
