"""Any shop's words and money: currency phrases, plain descriptions, refer and clarify questions.

Pure functions only (no model, no index): a small euro shop of clothing and homeware is the
catalog here, so nothing can lean on the electronics demo or on dollars.
"""

from __future__ import annotations

import pytest

from agents import prompts
from agents.nodes.understand import interpret
from agents.rules.describe import clarify_question, plural, wording
from agents.rules.money import money, named_currency
from agents.rules.vocabulary import build_vocabulary
from agents.state import Memory, Shown, no_constraints
from tests.fixtures_euro import EURO_SHOP

VOCAB = build_vocabulary(EURO_SHOP)


def test_the_shop_vocabulary_knows_its_currency_and_its_own_examples() -> None:
    assert VOCAB.currency == "EUR"
    assert VOCAB.examples == ("t-shirts", "mugs", "tea towels")  # most SKUs first
    question = clarify_question(VOCAB.examples)
    assert "t-shirts, mugs or tea towels" in question
    for demo_word in ("notebook", "mouse", "ink", "toner", "wireless"):
        assert demo_word not in question
    assert clarify_question(()) == prompts.CLARIFY_BARE  # no catalog read: no made-up examples


@pytest.mark.parametrize(("phrase", "shop", "expected"), [
    ("under 25 euros", "EUR", "EUR"), ("under €25", "EUR", "EUR"), ("25 eur max", "EUR", "EUR"),
    ("£20 or less", "GBP", "GBP"), ("under 20 pounds", "EUR", "GBP"), ("under 30", "EUR", None),
    ("under $30", "EUR", "USD"), ("under $30", "CAD", "CAD"), ("under 30 usd", "CAD", "USD"),
    ("less than 10 dollars", None, "USD"), ("between 50 and 80", "GBP", None),
])
def test_named_currency(phrase: str, shop: str | None, expected: str | None) -> None:
    assert named_currency(phrase, shop) == expected


@pytest.mark.parametrize(("value", "currency", "text"), [
    (25.0, "EUR", "€25"), (24.5, "EUR", "€24.50"), (20.0, "GBP", "£20"), (30.0, "USD", "$30"),
    (1200.0, "SEK", "1,200 SEK"), (30.0, None, "30"),
])
def test_money_in_the_shops_currency(value: float, currency: str | None, text: str) -> None:
    assert money(value, currency) == text


def test_euros_are_understood_as_a_budget_in_euros() -> None:
    u = interpret("a white t-shirt under 25 euros", VOCAB)
    assert u.intent == "search" and u.constraints["max_price"] == 25.0
    assert u.constraints["colours"] == ["white"]
    assert "os" not in u.query.split()  # "euros" is consumed whole, not as "eur" + "os"
    w = wording(u.constraints, u.query, "a white t-shirt under 25 euros", VOCAB.currency)
    assert w.phrase(many=True) == "white t-shirts under €25"
    assert w.phrase(many=False) == "white t-shirt under €25"
    assert interpret("mug under 30", VOCAB).constraints["max_price"] == 30.0  # shop's money


@pytest.mark.parametrize("text", ["a white t-shirt under $25", "mug under 20 pounds",
                                  "t-shirt between 10 and 20 usd"])
def test_a_budget_in_another_currency_is_asked_about_not_converted(text: str) -> None:
    u = interpret(text, VOCAB)
    assert u.intent == "clarify" and u.constraints == no_constraints()
    assert "Prices in this shop are in euros" in u.clarify and "€" in u.clarify


@pytest.mark.parametrize(("text", "question"), [
    ("compare the first two", prompts.REFER_COMPARE),
    ("compare them", prompts.REFER_COMPARE),
    ("the cheaper one", prompts.REFER_ONE),
    ("the second one", prompts.REFER_ONE),
    ("is it in stock?", prompts.REFER_ONE),
])
def test_a_reference_to_nothing_asks_which_products(text: str, question: str) -> None:
    u = interpret(text, VOCAB)
    assert (u.intent, u.clarify, u.focus) == ("clarify", question, [])
    empty = Memory(query="mug", constraints=no_constraints(), shown=[])
    assert interpret(text, VOCAB, empty).clarify == question  # the last answer showed none


def test_a_reference_with_a_list_picks_from_it() -> None:
    memory = Memory(query="mug", constraints=no_constraints(), shown=[
        Shown(sku="mg1-0", title="Stoneware mug", brand="Maison", product_id="mg1", price=12.5),
        Shown(sku="mg1-1", title="Stoneware mug", brand="Maison", product_id="mg1", price=12.5)])
    u = interpret("compare the first two", VOCAB, memory)
    assert (u.intent, u.focus, u.clarify) == ("compare", ["mg1-0", "mg1-1"], "")


def test_plain_words_never_quote_the_parsed_query() -> None:
    u = interpret("cheapest in-stock white t-shirt under €25", VOCAB)
    w = wording(u.constraints, u.query, "cheapest in-stock white t-shirt under €25", "EUR")
    assert w.phrase(many=False) == "in-stock white t-shirt under €25"
    assert w.phrase(many=False, checked=False) == "white t-shirt"  # live data down: no claims
    assert plural("mouse") == "mice" and plural("headphones") == "headphones"
    assert plural("iphone 7") == "iphone 7"
