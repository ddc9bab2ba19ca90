"""verify.check as a table: which LLM sentences about price and stock pass against live offers."""

from __future__ import annotations

import pytest

from agents.nodes.verify import check
from agents.state import Candidate, LiveOffer, no_constraints


def _offer(sku: str, price: str | None, qty: int | None, availability: str) -> LiveOffer:
    return LiveOffer(sku=sku, price=price, currency="USD", display=f"${price}" if price else None,
                     quantity=qty, availability=availability,
                     in_stock=None if qty is None else availability in ("in_stock", "low_stock"),
                     warehouses={"east": 10, "west": (qty or 0) - 10} if qty else {},
                     synthetic=True, as_of="2026-01-01T00:00:00+00:00")


def _cand(sku: str, title: str) -> Candidate:
    return Candidate(sku=sku, product_id=sku, title=title, brand="HP", category="mouse",
                     colours=[], facets=[], model=None, image_url=None, url=None, specs={},
                     description="", score=0.0, rank=0, exact=False)


OFFERS = {"111": _offer("111", "8.94", 113, "in_stock"), "222": _offer("222", "15.95", 0,
                                                                        "out_of_stock")}
CANDS = {"111": _cand("111", "HP Wireless Eco-comfort Mobile mouse"),
         "222": _cand("222", "HP Wireless Optical mouse")}
LIMIT = {**no_constraints(), "max_price": 30.0}


@pytest.mark.parametrize(("text", "ok"), [
    ("The HP Wireless Eco-comfort Mobile mouse (SKU 111) is $8.94 and in stock.", True),
    ("SKU 111 costs $8.94; 113 available (10 in east).", True),
    ("SKU 111 costs $7.94.", False),  # wrong price
    ("SKU 111 costs 8.94 dollars.", True),
    ("SKU 222 is out of stock at $15.95.", True),
    ("SKU 222 is in stock.", False),  # invented availability
    ("SKU 111 is sold out.", False),
    ("SKU 111 has only 5 left.", False),  # invented quantity
    ("Both are under your $30 limit.", True),  # the shopper's own bound
    ("SKU 111 is $7.01 cheaper than SKU 222.", True),  # a gap between two live prices
    ("SKU 999 costs $4.00.", False),  # a price for a product nobody looked up
    ("The HP Wireless Optical mouse: live price unavailable.", True),
    ("It is $8.94. It ships today and is in stock.", True),  # "it" = the last named product
])
def test_claims(text: str, ok: bool) -> None:
    problems = check(text, OFFERS, CANDS, LIMIT, ["111"])  # type: ignore[arg-type]
    assert (not problems) == ok, problems


def test_no_live_data_means_no_price_may_be_stated() -> None:
    offers = {"111": _offer("111", None, None, "unknown")}
    assert check("SKU 111 is $8.94.", offers, CANDS, no_constraints(), ["111"])
    assert not check("SKU 111: live price unavailable, live stock unavailable.", offers, CANDS,
                     no_constraints(), ["111"])
