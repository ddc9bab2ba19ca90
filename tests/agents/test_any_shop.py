"""Any shop, not just the demo: a small euro clothing and homeware catalog, end to end.

The real embedder and embedded index, a SQLite SoR, the grounded responder: budgets in euros
are euro filters, amounts are written in euros, and a vague question offers this shop's own
products as examples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents.schemas import AgentRequest, Answer
from tests.fixtures_demo import demo_settings_for
from tests.fixtures_euro import EURO_SHOP, EURO_TENANT

pytestmark = pytest.mark.model


@pytest.fixture
async def euro_agent(tmp_path: Path, embedder: Any) -> AsyncIterator[Any]:
    """The euro shop ingested into a fresh data dir, and an agent on it."""
    from app.wiring import open_agent, services
    from ingestion.pipeline import ingest_products

    settings = demo_settings_for(tmp_path / "data", TENANT=EURO_TENANT)
    async with services(settings, embedder=embedder) as svc:
        await ingest_products(EURO_SHOP, tenant=EURO_TENANT, sor=svc.sor, writer=svc.writer)
        svc.index.flush()
        async with open_agent(svc, settings) as agent:
            yield agent


async def _ask(agent: Any, text: str) -> Answer:
    answer: Answer = await agent.answer(AgentRequest(message=text, tenant=EURO_TENANT))
    return answer


async def test_a_budget_in_euros_is_a_euro_filter_written_in_euros(euro_agent: Any) -> None:
    answer = await _ask(euro_agent, "a white t-shirt under 25 euros")
    assert answer.products and not answer.clarification
    assert {c.sku for c in answer.products} <= {"ts1-0", "ts1-1", "ts1-2", "ts3-0"}
    for card in answer.products:
        assert card.currency == "EUR" and Decimal(card.price or "99") <= 25
    assert answer.text.startswith("For white t-shirts under €25, my top pick is")
    assert "€19.00" in answer.text and "$" not in answer.text
    assert "os" not in answer.text.split()


async def test_cheapest_in_this_shop(euro_agent: Any) -> None:
    answer = await _ask(euro_agent, "cheapest mug")
    assert answer.products[0].sku == "mg2-0"
    assert answer.text.startswith("The cheapest mug is the Enamel camping mug (SKU mg2-0) "
                                  "at €9.90")


async def test_clarifying_question_offers_this_shops_products(euro_agent: Any) -> None:
    answer = await _ask(euro_agent, "something nice")
    assert answer.clarification and not answer.products
    assert "t-shirts, mugs or tea towels" in answer.text
    for demo_word in ("notebook", "mouse", "ink", "toner", "wireless"):
        assert demo_word not in answer.text


async def test_a_budget_in_dollars_is_asked_about(euro_agent: Any) -> None:
    answer = await _ask(euro_agent, "a white t-shirt under $25")
    assert answer.clarification and not answer.products
    assert "Prices in this shop are in euros" in answer.text and "€25" in answer.text
