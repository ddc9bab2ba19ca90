"""Typos and sizes on the demo catalog: a misspelt word still finds the products and the answer
says what was searched; size wishes are range filters the cards respect, relaxed when no SKU
of the shop has the size."""

from __future__ import annotations

from typing import Any

import pytest

from agents.schemas import AgentRequest, Answer

pytestmark = pytest.mark.model


async def ask(agent: Any, text: str) -> Answer:
    answer: Answer = await agent.answer(AgentRequest(message=text))
    return answer


def sizes(services: Any, answer: Answer, field: str) -> list[float | None]:
    """The range field of each card's SKU, as the index holds it."""
    skus = [c.sku for c in answer.products]
    by_sku = {h.sku: h.payload for h in services.index.lookup("demo", skus=skus)}
    return [by_sku[s].get(field) for s in skus]


async def test_misspelt_keyboard_finds_keyboards(demo_agent: Any, demo_services: Any) -> None:
    answer = await ask(demo_agent, "wireless keybaord")
    assert answer.text.startswith("Showing results for wireless keyboard. "), answer.text
    titles = [c.title.lower() for c in answer.products]
    assert titles and all("keyboard" in t for t in titles[:3]), titles


async def test_a_correct_message_says_nothing_about_spelling(demo_agent: Any) -> None:
    answer = await ask(demo_agent, "wireless keyboard")
    assert "Showing results for" not in answer.text
    assert answer.products


async def test_at_least_16_gb_is_a_range(demo_agent: Any, demo_services: Any) -> None:
    answer = await ask(demo_agent, "usb flash drive with at least 16 GB")
    got = sizes(demo_services, answer, "storage_gb")
    assert got and all(g is not None and g >= 16 for g in got), got
    assert "dropped" not in answer.text


async def test_memory_wish_on_notebooks(demo_agent: Any, demo_services: Any) -> None:
    answer = await ask(demo_agent, "notebook with at least 1 GB RAM")
    got = sizes(demo_services, answer, "memory_gb")
    assert got and all(g is not None and g >= 1 for g in got), got


async def test_24_inch_matches_61_cm(demo_agent: Any, demo_services: Any) -> None:
    answer = await ask(demo_agent, "24 inch monitor")
    assert answer.products and answer.products[0].sku == "1572512", answer.text  # 61 cm (24 inch)
    got = sizes(demo_services, answer, "screen_in")
    assert all(g is not None and 23.2 <= g <= 24.8 for g in got), got


async def test_monitor_over_20_inch(demo_agent: Any, demo_services: Any) -> None:
    answer = await ask(demo_agent, "monitor over 20 inch")
    got = sizes(demo_services, answer, "screen_in")
    assert got and all(g is not None and g >= 20 for g in got), got


async def test_a_size_nobody_has_is_relaxed_and_said(demo_agent: Any) -> None:
    answer = await ask(demo_agent, "27 inch monitor")  # the demo's largest monitor is 24"
    assert "I dropped the size (about 27 inch)" in answer.text, answer.text
    assert answer.products
