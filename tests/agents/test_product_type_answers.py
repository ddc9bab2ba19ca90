"""The head product type on the demo catalog: a laptop is a laptop, a charger is no laptop."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agents.schemas import AgentRequest, Answer

pytestmark = pytest.mark.model
ACCESSORY = re.compile(r"\block\b|adapter|charger|case|sleeve", re.I)


async def ask(agent: Any, text: str) -> Answer:
    answer: Answer = await agent.answer(AgentRequest(message=text))
    return answer


async def test_cheapest_laptop_is_a_laptop_not_a_laptop_lock(demo_agent: Any) -> None:
    answer = await ask(demo_agent, "cheapest laptop")
    titles = [c.title for c in answer.products]
    assert titles, answer.text
    assert not [t for t in titles if ACCESSORY.search(t)], titles
    prices = [float(c.price) for c in answer.products if c.price]
    assert prices == sorted(prices)


async def test_something_to_charge_my_laptop_is_a_charger(demo_agent: Any) -> None:
    answer = await ask(demo_agent, "something to charge my laptop")
    titles = [c.title for c in answer.products]
    assert titles and re.search(r"charger|adapter|power", titles[0], re.I), titles
    assert not re.search(r"\block\b", titles[0], re.I), titles


async def test_a_laptop_lock_is_a_lock(demo_agent: Any) -> None:
    answer = await ask(demo_agent, "laptop lock")
    titles = [c.title for c in answer.products]
    assert titles and all(re.search(r"\block\b", t, re.I) for t in titles), titles
