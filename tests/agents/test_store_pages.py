"""Questions about the shop are answered from its store pages, with the page and section cited;
questions no page covers get "I don't know" and the contact page; product questions are not
touched. The demo catalog subset and the demo pages, the real embedder, the grounded responder."""

from __future__ import annotations

from typing import Any

import pytest

from agents.schemas import AgentRequest, Answer

pytestmark = pytest.mark.model


async def _ask(agent: Any, message: str, **kw: Any) -> Answer:
    answer: Answer = await agent.answer(AgentRequest(message=message, **kw))
    return answer


@pytest.mark.parametrize(("question", "page", "anchor", "says"), [
    ("What is your return policy?", "returns", "return-policy", "within 30 days"),
    ("Do you deliver abroad?", "shipping", "delivery-abroad", "European Union"),
    ("How long is the warranty?", "warranty", "warranty-period", "2-year warranty"),
    ("Can I pay with PayPal?", "payment", "accepted-payment-methods", "PayPal"),
    ("when are you open on saturday", "contact", "opening-hours", "Saturday"),
])
async def test_policy_questions_cite_the_section_that_answers_them(
    demo_agent: Any, question: str, page: str, anchor: str, says: str
) -> None:
    answer = await _ask(demo_agent, question)
    assert [(s.page_id, s.anchor) for s in answer.sources] == [(page, anchor)]
    src = answer.sources[0]
    assert src.url == f"/store/pages/{page}#{anchor}" and src.demo and says in src.text
    assert says in answer.text and f"\u201c{src.section}\u201d" in answer.text
    assert answer.products == [] and answer.live == "skipped"


@pytest.mark.parametrize("question", ["Who is your CEO?", "Do you take bitcoin?"])
async def test_a_question_no_page_covers_gets_i_dont_know_and_the_contact_page(
    demo_agent: Any, question: str
) -> None:
    answer = await _ask(demo_agent, question)
    assert answer.text.startswith("I don't know that")
    assert [s.page_id for s in answer.sources] == ["contact"]
    assert answer.sources[0].text in answer.text and answer.products == []


@pytest.mark.parametrize("question", [
    "wireless mouse under $30", "mouse with a long warranty", "logitech keyboard",
])
async def test_product_questions_still_get_products_and_no_sources(
    demo_agent: Any, question: str
) -> None:
    answer = await _ask(demo_agent, question)
    assert answer.products and answer.sources == []


async def test_a_policy_turn_keeps_the_products_a_follow_up_refers_to(demo_agent: Any) -> None:
    first = await _ask(demo_agent, "wireless mouse under $30")
    thread = first.thread_id
    policy = await _ask(demo_agent, "and what is your return policy?", thread_id=thread)
    assert [s.page_id for s in policy.sources] == ["returns"]
    cheaper = await _ask(demo_agent, "cheaper ones", thread_id=thread)
    assert cheaper.products and cheaper.sources == []


async def test_the_done_event_carries_the_sources(demo_agent: Any) -> None:
    events = [e async for e in demo_agent.stream(AgentRequest(message="Do you deliver abroad?",
                                                              mode="assist"))]
    assert [e.type for e in events if e.type != "status"][:2] == ["meta", "products"]
    done = events[-1]
    assert done.type == "done"
    assert done.data["sources"][0]["anchor"] == "delivery-abroad"
    trace = {t["node"]: t["detail"] for t in done.data["trace"]}
    assert trace["pages"]["sources"] == ["shipping#delivery-abroad"]
