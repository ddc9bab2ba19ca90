"""Sorted requests on the demo catalog: the agent's "cheapest" is the system of record's.

The truth is computed from the SoR in each test (every SKU of the tenant, live offers), not
written down, so the test holds for any demo subset. The index's price copy only orders the
read; a price changed in the SoR without reindexing must win, and the answer must say so.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from agents.rules.vocabulary import words
from agents.schemas import AgentRequest, Answer
from catalog.models import Money, Product, Sku
from search import facets_of
from tests.fixtures_demo import DEMO_TENANT

pytestmark = pytest.mark.model

Fits = Callable[[Product, Sku], bool]


def _wireless_mouse(p: Product, s: Sku) -> bool:
    """A wireless mouse as the agent reads one: the category, and the facet or the title."""
    shows = ("connectivity technology=wireless" in facets_of(p, s)
             or "wireless" in words(p.sku_title(s)).split())
    return p.category == "mouse" and shows


async def _truth(svc: Any, fits: Fits, *, in_stock: bool, max_price: float | None = None,
                 highest: bool = False) -> Decimal:
    """The best live price among every SKU of the tenant that fits, read from the SoR."""
    pairs = [(p, s) async for p in svc.sor.iter_products(DEMO_TENANT) for s in p.skus]
    offers = await svc.sor.get_offers(DEMO_TENANT, [s.sku for p, s in pairs if fits(p, s)])
    prices = [o.price.amount for o in offers.values()
              if o.price and (o.in_stock or not in_stock)
              and (max_price is None or o.price.amount <= Decimal(str(max_price)))]
    assert prices, "the demo subset has SKUs that fit"
    return max(prices) if highest else min(prices)


async def _ask(agent: Any, text: str) -> Answer:
    answer: Answer = await agent.answer(AgentRequest(message=text))
    return answer


CASES: list[tuple[str, Fits, dict[str, Any]]] = [
    ("cheapest in-stock wireless mouse", _wireless_mouse, {"in_stock": True}),
    ("cheapest in-stock Logitech keyboard",
     lambda p, s: p.category == "keyboard" and p.brand.lower() == "logitech", {"in_stock": True}),
    ("lowest price first: HP ink cartridge under $20",
     lambda p, s: p.category == "ink cartridge" and p.brand == "HP",
     {"in_stock": False, "max_price": 20.0}),
    ("most expensive in-stock keyboard", lambda p, s: p.category == "keyboard",
     {"in_stock": True, "highest": True}),
]


@pytest.mark.parametrize(("question", "fits", "limits"), CASES, ids=[c[0] for c in CASES])
async def test_sorted_answer_is_the_catalogs_true_extreme(
        demo_agent: Any, demo_services: Any, question: str, fits: Fits,
        limits: dict[str, Any]) -> None:
    answer = await _ask(demo_agent, question)
    truth = await _truth(demo_services, fits, **limits)
    top = answer.products[0]
    assert Decimal(top.price or "-1") == truth, (question, answer.text)
    assert top.price_display and top.price_display in answer.text
    if limits.get("in_stock"):
        assert all(c.in_stock for c in answer.products)
    prices = [Decimal(c.price or 0) for c in answer.products]
    assert prices == sorted(prices, reverse=bool(limits.get("highest")))
    assert "“" not in answer.text  # no quoted echo of the parsed query


async def test_live_prices_reorder_the_list_and_the_answer_says_so(
        demo_agent: Any, demo_services: Any) -> None:
    question = "cheapest in-stock wireless mouse"
    first = await _ask(demo_agent, question)
    assert "today's prices" not in first.text
    cards = first.products
    assert len(cards) >= 3
    cheaper = Decimal(cards[0].price or 0) - Decimal("0.50")
    # The SoR changes, the index keeps its old price copy (no reindex, no change worker).
    await demo_services.sor.set_price(DEMO_TENANT, cards[2].sku, Money(amount=cheaper))
    again = await _ask(demo_agent, question)
    assert again.products[0].sku == cards[2].sku
    assert again.products[0].price == str(cheaper)
    assert f"${cheaper}" in again.text
    assert "Prices have changed since the catalog was indexed" in again.text
    assert "sorted by today's prices" in again.text


async def test_a_comparison_with_nothing_to_refer_to_asks_which(demo_agent: Any) -> None:
    answer = await _ask(demo_agent, "compare the first two")
    assert answer.clarification and not answer.products
    assert answer.text.startswith("Which products would you like me to compare?")
    vague = await _ask(demo_agent, "something nice")
    assert vague.clarification and "What kind of product" in vague.text
    demo_words = [w for w in ("mice", "keyboards") if w in vague.text]
    assert demo_words  # the demo shop's own most stocked categories, from its catalog
