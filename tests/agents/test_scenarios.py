"""Shopper conversations on the demo catalog, with exact expectations (SKUs and facts).

Every figure expected here is the demo catalog's own (price in USD, synthetic stock), read by
the agent live from the SoR; scenarios that change the SoR do so on the test's private copy.
The grounded responder answers (no LLM), so texts are deterministic.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from agents.schemas import AgentEvent, AgentRequest, Answer
from catalog.errors import Forbidden, IndexUnavailable, NotFound, SorUnavailable
from catalog.models import Money, Stock

pytestmark = pytest.mark.model
MONEY = re.compile(r"\$\d[\d,]*\.\d\d")


@dataclass
class Turn:
    """One message and what its answer must contain."""

    say: str
    top: str | None = None  # SKU of the first card
    skus: list[str] | None = None  # exact card SKUs, in order
    has: list[str] = field(default_factory=list)  # substrings of the text
    lacks: list[str] = field(default_factory=list)
    max_price: float | None = None  # every card's live price at most this
    min_price: float | None = None
    in_stock: bool = False  # every card in stock
    brand: str | None = None  # every card of this brand
    relaxed: bool = False
    clarify: bool = False


async def ask(agent: Any, text: str, thread: str | None = None, **kw: Any) -> Answer:
    answer: Answer = await agent.answer(AgentRequest(message=text, thread_id=thread, **kw))
    return answer


def check(answer: Answer, t: Turn) -> None:
    cards = answer.products
    where = f"{t.say!r} -> {answer.text!r} {[c.sku for c in cards]}"
    if t.top is not None:
        assert cards and cards[0].sku == t.top, where
    if t.skus is not None:
        assert [c.sku for c in cards] == t.skus, where
    for s in t.has:
        assert s in answer.text, f"{s!r} missing: {where}"
    for s in t.lacks:
        assert s not in answer.text, f"{s!r} present: {where}"
    for c in cards:
        assert c.price is not None, where  # the SoR is up in these conversations
        if t.max_price is not None:
            assert Decimal(c.price) <= Decimal(str(t.max_price)), where
        if t.min_price is not None:
            assert Decimal(c.price) >= Decimal(str(t.min_price)), where
        if t.in_stock:
            assert c.in_stock, where
        if t.brand:
            assert c.brand == t.brand, where
    assert bool(answer.relaxed) == t.relaxed, where
    assert answer.clarification == t.clarify, where
    # Every amount in the text is a card's live price or the shopper's own limit.
    allowed = {c.price_display for c in cards} | {f"${x:,.2f}" for x in (t.max_price, t.min_price)
                                                  if x is not None}
    spoken = set(MONEY.findall(answer.text)) - {f"${Decimal(c.price):,.2f}" for c in cards
                                                  if c.price} - allowed
    assert not {m for m in spoken if not _is_gap(m, cards)}, where


def _is_gap(amount: str, cards: list[Any]) -> bool:
    """A comparison's "$35.00 cheaper" is the difference of two live prices."""
    value = Decimal(amount[1:].replace(",", ""))
    prices = [Decimal(c.price) for c in cards if c.price]
    return any(a - b == value for a in prices for b in prices)


CONVERSATIONS: dict[str, list[Turn]] = {
    # -- constraint parsing ---------------------------------------------------------------
    "budget_and_stock": [Turn("wireless mouse under $30 that's in stock", top="2704878",
                              has=["$8.94", "under $30"], max_price=30, in_stock=True)],
    "cheapest_in_stock": [Turn("cheapest in-stock wireless mouse", top="2704878",
                               has=["The cheapest in-stock wireless mouse is", "$8.94",
                                    "113 available"],
                               in_stock=True)],
    "brand_and_range": [Turn("Logitech keyboard between 50 and 80", brand="Logitech",
                             min_price=50, max_price=80, has=["between $50 and $80"])],
    "below_dollars": [Turn("keyboard below $20", max_price=20, has=["under $20"])],
    "cheap_calculator": [Turn("cheap calculator", top="159784",
                              has=["The cheapest calculator is", "Sharp EL-233S", "$7.95"])],
    "less_than": [Turn("headphones less than 10 dollars", max_price=10, has=["under $10"])],
    # -- SKU, model number and EAN lookups ---------------------------------------------------
    "model_lookup": [Turn("Logitech M100", skus=["3943886", "3943887"],
                          has=["$12.95", "SKU 3943886"])],
    "model_colour": [Turn("is the HP 364 black ink available?", skus=["1697744", "1638022"],
                          has=["Yes, the HP 364 Original Black", "$16.95", "44 available"])],
    "sku_lookup": [Turn("do you have SKU 2161020?", skus=["2161020"],
                        has=["Logitech B110", "$8.94", "96 available"])],
    "ean_lookup": [Turn("5021839008765", skus=["1700396"], has=["HP 21 Black", "$11.95"])],
    "variant_stock": [Turn("is the logitech m500 in stock?", top="2936769",
                           has=["Yes", "$47.95", "83 available"])],
    # -- nothing matches ---------------------------------------------------------------------
    "not_sold": [Turn("iphone 7", skus=[], has=["couldn't find anything matching “iphone 7”"])],
    # No product of the shop is typed like it: no card, and the shopper's own words named.
    "unsold_category": [Turn("espresso machine", skus=[],
                             has=["couldn't find anything matching “espresso machine”"])],
    # -- relaxation --------------------------------------------------------------------------
    "relax_price": [Turn("Logitech mouse under $5", top="2161020", relaxed=True,
                         has=["I dropped the $5 price limit", "lowest-priced", "$8.94"])],
    "relax_colour": [Turn("white wireless mouse under $30", top="2704878", relaxed=True,
                          max_price=30, has=["I dropped the colour (white)"])],
    "relax_stock": [Turn("Logitech M500 under $45 that's in stock", skus=["2161018"],
                         relaxed=True, has=["I dropped the in-stock requirement", "$39.95",
                                            "out of stock"])],
    "relax_brand": [Turn("Logitech calculator", relaxed=True,
                         has=["I dropped the brand (Logitech)"])],
    # -- clarification -----------------------------------------------------------------------
    "vague": [Turn("something nice", skus=[], clarify=True,
                   has=["What kind of product are you looking for?"])],
    "gift": [Turn("I need a gift", skus=[], clarify=True)],
    "hello": [Turn("hi", skus=[], clarify=True)],
    # -- comparisons -------------------------------------------------------------------------
    "compare_models": [Turn("compare the Logitech M100 and M500", skus=["3943886", "2936769"],
                            has=["$12.95", "$47.95", "$35.00 cheaper", "colour (White vs Black)"])],
    "compare_first_two": [Turn("wireless mouse under $30 that's in stock", top="2704878"),
                          Turn("compare the first two", skus=["2704878", "2655019"],
                               has=["$7.01 cheaper"])],
    # -- multi-turn follow-ups ---------------------------------------------------------------
    "second_one": [Turn("wireless mouse under $30 that's in stock"),
                   Turn("the second one", skus=["2655019"],
                        has=["HP Wireless Optical mouse", "$15.95"])],
    "in_white": [Turn("wireless mouse under $30 that's in stock"),
                 Turn("what about in white?", skus=["3943886"], relaxed=True,
                      has=["I dropped the wireless requirement",
                           "For in-stock white mice under $30", "$12.95"])],
    "cheaper": [Turn("wireless keyboard", top="3555889"),
                Turn("cheaper ones", max_price=49.94, has=["under $49.94"])],
    "is_it_in_stock": [Turn("wireless mouse under $30 that's in stock"),
                       Turn("is it in stock?", skus=["2704878"], has=["Yes", "113 available"])],
    "show_more": [Turn("wireless mouse under $30 that's in stock"),
                  Turn("show me more", max_price=30, in_stock=True,
                       lacks=["2655019", "2704878", "1749095"])],
    "only_brand": [Turn("wireless keyboard"),
                   Turn("only Logitech", brand="Logitech")],
    "new_topic": [Turn("wireless mouse under $30 that's in stock"),
                  Turn("what about keyboards?", max_price=30, in_stock=True,
                       has=["For in-stock keyboards under $30, my top pick is"])],
}


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
async def test_conversation(demo_agent: Any, name: str) -> None:
    thread = None
    for turn in CONVERSATIONS[name]:
        answer = await ask(demo_agent, turn.say, thread)
        check(answer, turn)
        thread = answer.thread_id


# -- live data: the SoR changes between turns ---------------------------------------------------
async def test_price_change_between_turns_shows_new_price_at_once(demo_agent: Any,
                                                                   demo_services: Any) -> None:
    first = await ask(demo_agent, "Logitech M100")
    assert first.products[0].sku == "3943886" and "$12.95" in first.text
    await demo_services.sor.set_price("demo", "3943886", Money(amount=Decimal("9.99")))
    second = await ask(demo_agent, "the first one", first.thread_id)
    assert [c.sku for c in second.products] == ["3943886"]
    assert second.products[0].price == "9.99" and "$9.99" in second.text
    assert "$12.95" not in second.text


async def test_stock_dropping_to_zero(demo_agent: Any, demo_services: Any) -> None:
    first = await ask(demo_agent, "cheapest in-stock wireless mouse")
    assert first.products[0].sku == "2704878"
    await demo_services.sor.set_stock("demo", "2704878", Stock(quantity=0,
                                                             availability="out_of_stock"))
    again = await ask(demo_agent, "cheapest in-stock wireless mouse")
    assert "2704878" not in [c.sku for c in again.products]
    assert again.products[0].sku == "2675001" and "$9.94" in again.text
    asked = await ask(demo_agent, "is it in stock?", first.thread_id)
    assert [c.sku for c in asked.products] == ["2704878"]
    assert asked.text.startswith("Sorry, the HP Wireless Eco-comfort")
    assert "out of stock" in asked.text
    assert asked.products[0].in_stock is False and asked.products[0].quantity == 0


async def test_sku_deleted_in_sor_is_never_shown(demo_agent: Any, demo_services: Any) -> None:
    await demo_services.sor.delete_sku("demo", "2655019")  # the index still has it
    answer = await ask(demo_agent, "wireless mouse under $30 that's in stock")
    assert "2655019" not in [c.sku for c in answer.products] and "2655019" not in answer.text
    assert answer.products[0].sku == "2704878"


# -- degradation ---------------------------------------------------------------------------------
async def test_sor_down_says_unavailable_and_shows_no_number(demo_agent: Any,
                                                             monkeypatch: Any) -> None:
    async def down(tenant: str, skus: Any) -> Any:
        raise SorUnavailable("connection refused", setting="SHOPKEEPER_SOR_URL")

    monkeypatch.setattr(demo_agent.deps.live.sor, "get_offers", down)
    answer = await ask(demo_agent, "wireless mouse under $30 that's in stock")
    assert answer.products and answer.live == "unavailable"
    assert "live price unavailable" in answer.text and "live stock unavailable" in answer.text
    # Nothing unchecked is claimed: not the budget, not the stock, not a "top pick".
    assert answer.text.startswith("Here is what I found for wireless mice: ")
    assert "can't confirm that they are under $30 and in stock" in answer.text
    for claim in ("that's in stock", "in-stock", "top pick", "cheapest", " at live price"):
        assert claim not in answer.text
    assert not MONEY.findall(answer.text.replace("$30", ""))
    for card in answer.products:
        assert card.price is None and card.quantity is None
        assert card.price_display == "live price unavailable" and card.availability == "unknown"


async def test_sor_slow_is_cut_off_by_the_timeout(demo_agent: Any, monkeypatch: Any) -> None:
    calls = 0

    async def slow(tenant: str, skus: Any) -> Any:
        nonlocal calls
        calls += 1
        await asyncio.sleep(30)

    monkeypatch.setattr(demo_agent.deps.live.sor, "get_offers", slow)
    started = asyncio.get_running_loop().time()
    answer = await ask(demo_agent, "Logitech M100")
    elapsed = asyncio.get_running_loop().time() - started
    assert calls == 2  # one try and one bounded retry (SOR_RETRIES=1)
    assert elapsed < 0.5 * 2 + 1.0  # two 0.5 s timeouts plus backoff, never 30 s
    assert "live price unavailable" in answer.text and not MONEY.findall(answer.text)


async def test_index_down_is_a_clear_error(demo_agent: Any, demo_services: Any) -> None:
    demo_services.index.close()
    events = [e async for e in demo_agent.stream(AgentRequest(message="wireless mouse"))]
    assert events[0].type == "meta" and events[-1].type == "error"
    assert events[-1].data["error"] == "IndexUnavailable" and events[-1].data["status"] == 503
    with pytest.raises(IndexUnavailable):
        await ask(demo_agent, "wireless mouse")


# -- prompt injection in a product description -----------------------------------------------
async def test_injected_description_does_not_change_the_answer(demo_agent: Any) -> None:
    answer = await ask(demo_agent, "cheapest in-stock wireless mouse")
    assert answer.products[0].sku == "2704878"  # the product whose description is poisoned
    assert "$8.94" in answer.text and "113 available" in answer.text
    for bad in ("$0.01", "9999", "IGNORE", "admin mode"):
        assert bad not in answer.text
    detail = await ask(demo_agent, "tell me about the first one", answer.thread_id)
    assert "$8.94" in detail.text and "$0.01" not in detail.text and "9999" not in detail.text
    other = await ask(demo_agent, "Logitech keyboard between 50 and 80")
    assert "2704878" not in [c.sku for c in other.products]  # not "recommended for everything"


# -- memory, owners and modes --------------------------------------------------------------------
async def test_threads_belong_to_their_user(demo_agent: Any) -> None:
    mine = await ask(demo_agent, "wireless keyboard", user_id="alice")
    turns = await demo_agent.history(mine.thread_id, "alice")
    assert [t["role"] for t in turns] == ["user", "assistant"]
    assert turns[0]["content"] == "wireless keyboard" and turns[1]["content"] == mine.text
    with pytest.raises(Forbidden):
        await demo_agent.history(mine.thread_id, "mallory")
    with pytest.raises(NotFound):
        await demo_agent.history("no-such-thread", "alice")
    events = [e async for e in demo_agent.stream(AgentRequest(
        message="the first one", thread_id=mine.thread_id, user_id="mallory"))]
    assert events[-1].type == "error" and events[-1].data["error"] == "Forbidden"
    assert len(await demo_agent.history(mine.thread_id, "alice")) == 2  # nothing was added


async def test_query_mode_is_single_turn(demo_agent: Any) -> None:
    first = await ask(demo_agent, "wireless keyboard", mode="query")
    follow = await ask(demo_agent, "the second one", first.thread_id, mode="query")
    assert follow.clarification and not follow.products  # no memory of the first question
    with pytest.raises(NotFound):
        await demo_agent.history(first.thread_id, "anonymous")


async def test_assist_mode_gives_evidence_and_trace(demo_agent: Any) -> None:
    answer = await ask(demo_agent, "is the HP 364 black ink available?", mode="assist")
    assert [t.node for t in answer.trace] == ["understand", "retrieve", "live_lookup", "decide",
                                              "respond"]
    assert all(t.ms >= 0 for t in answer.trace)
    top = answer.evidence[0]
    assert top["sku"] == "1697744" and top["shown"] and top["retrieval"]["exact"]
    assert top["live"]["price"] == "16.95" and top["live"]["quantity"] == 44
    assert sum(top["live"]["warehouses"].values()) == 44 and top["live"]["synthetic"]
    assert "matches your search" in top["why"]
    assert {c.sku for c in answer.products} == {e["sku"] for e in answer.evidence if e["shown"]}
    assert {c.field for c in answer.citations} == {"price", "stock"}


async def test_stream_event_order(demo_agent: Any) -> None:
    events: list[AgentEvent] = [e async for e in demo_agent.stream(
        AgentRequest(message="cheapest in-stock wireless mouse"))]
    kinds = [e.type for e in events]
    assert kinds[0] == "meta" and kinds[-1] == "done"
    first_token, products = kinds.index("token"), kinds.index("products")
    assert kinds[1:products] == ["status"] * (products - 1)
    assert products < first_token and set(kinds[first_token:-1]) == {"token"}
    assert [e.data["node"] for e in events if e.type == "status"] == [
        "understand", "pages", "retrieve", "live_lookup", "decide", "respond"]
    text = "".join(e.data["text"] for e in events if e.type == "token")
    assert text == events[-1].data["text"] and "$8.94" in text


async def test_consumer_leaving_cancels_the_run(demo_agent: Any, monkeypatch: Any) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def hanging(tenant: str, skus: Any) -> Any:
        started.set()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(demo_agent.deps.live.sor, "get_offers", hanging)

    async def consume() -> None:
        async for _ in demo_agent.stream(AgentRequest(message="Logitech M100")):
            pass

    task = asyncio.create_task(consume())  # what the SSE layer does per request
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()  # the shopper closed the widget mid-answer
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), 1.0)


async def test_consumer_breaking_off_closes_the_stream(demo_agent: Any) -> None:
    stream = demo_agent.stream(AgentRequest(message="Logitech M100"))
    async for event in stream:
        if event.type == "status":
            break
    await asyncio.wait_for(stream.aclose(), 2.0)
    again = await ask(demo_agent, "Logitech M100")  # the agent is still fine afterwards
    assert again.products[0].sku == "3943886"
