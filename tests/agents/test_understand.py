"""understand as a table: what each message means, resolved against a small fixed vocabulary.

Pure functions only (no model, no index): price bounds, stock wishes, catalog terms, codes,
clarification and follow-ups that lean on the previous turn's memory.
"""

from __future__ import annotations

from typing import Any

import pytest

from agents.nodes.understand import interpret
from agents.rules.parsing import price_bounds
from agents.rules.vocabulary import Vocabulary
from agents.state import Memory, Shown
from search.types import TypeMatcher

VOCAB = Vocabulary(
    brands={"logitech": ["logitech"], "hp": ["hp"], "sharp": ["sharp"],
            "kingston": ["kingston technology"], "kingston technology": ["kingston technology"]},
    colours=frozenset({"black", "white", "grey", "red", "silver"}),
    categories=frozenset({"mouse", "keyboard", "notebook", "calculator", "monitor", "printer",
                          "usb flash drive", "ink cartridge"}),
    facets={"wireless": ["connectivity technology=wireless"],
            "wired": ["connectivity technology=wired"],
            "inkjet": ["print technology=inkjet"]},
    types=TypeMatcher({"mouse": 50, "keyboard": 40, "notebook": 20, "calculator": 5,
                       "monitor": 5, "printer": 5, "usb flash drive": 5, "ink cartridge": 5,
                       "cable lock": 3}),
    skus=100,
)


@pytest.mark.parametrize(("text", "low", "high", "sort"), [
    ("wireless mouse under $30", None, 30.0, "relevance"),
    ("below $30", None, 30.0, "relevance"),
    ("less than 25.50 dollars", None, 25.5, "relevance"),
    ("keyboard between 50 and 80", 50.0, 80.0, "relevance"),
    ("$50-$80 headphones", 50.0, 80.0, "relevance"),
    ("from 20 to 40 usd", 20.0, 40.0, "relevance"),
    ("at least 200", 200.0, None, "relevance"),
    ("printer 100 or less", None, 100.0, "relevance"),
    ("around $100", 80.0, 120.0, "relevance"),
    ("budget of 40 for a mouse", None, 40.0, "relevance"),
    ("under 1,200", None, 1200.0, "relevance"),
    ("under 1k", None, 1000.0, "relevance"),
    ("cheapest mouse", None, None, "price_asc"),
    ("budget laptop", None, None, "price_asc"),
    ("most expensive monitor", None, None, "price_desc"),
    ("monitor under 27 inch", None, None, "relevance"),
    ("over 500 gb drive", None, None, "relevance"),
    ("HP 364 ink", None, None, "relevance"),
    ("dv7-1211ea laptop", None, None, "relevance"),
    ("under $30 in stock", None, 30.0, "relevance"),
])
def test_price_bounds(text: str, low: float | None, high: float | None, sort: str) -> None:
    b = price_bounds(text)
    assert (b.min_price, b.max_price, b.sort) == (low, high, sort)


def _c(text: str, memory: Memory | None = None) -> dict[str, Any]:
    u = interpret(text, VOCAB, memory)
    set_keys = {k: v for k, v in u.constraints.items()
                if v not in (None, [], {}, False, "relevance")}
    focus = {"focus": u.focus} if u.focus else {}
    return {"intent": u.intent, "query": u.query, **focus, **set_keys}


@pytest.mark.parametrize(("text", "expected"), [
    ("wireless mouse under $30 that's in stock",
     {"intent": "search", "query": "wireless mouse", "max_price": 30.0, "product_type": "mouse",
      "facets": ["connectivity technology=wireless"], "in_stock": True}),
    ("cheapest in-stock wireless mouse",
     {"intent": "search", "query": "wireless mouse", "sort": "price_asc", "product_type": "mouse",
      "facets": ["connectivity technology=wireless"], "in_stock": True}),
    ("Logitech keyboard between 50 and 80",
     {"intent": "search", "query": "logitech keyboard", "min_price": 50.0, "max_price": 80.0,
      "brands": ["logitech"], "product_type": "keyboard"}),
    ("is the HP 364 black ink available?",
     {"intent": "availability", "query": "hp 364 black ink", "brands": ["hp"],
      "colours": ["black"], "codes": ["364"]}),
    ("do you have wireless mice in stock?",
     {"intent": "search", "query": "wireless mice",  # "mice": left to the embedding
      "facets": ["connectivity technology=wireless"], "in_stock": True}),
    ("Kingston usb drive", {"intent": "search", "query": "kingston usb drive",
                            "brands": ["kingston technology"],
                            "boost_types": ["usb flash drive"]}),  # a drive: a guess
    ("laptop lock", {"intent": "search", "query": "laptop lock", "boost_types": ["cable lock"]}),
    ("mouse pad", {"intent": "search", "query": "mouse pad"}),  # a pad, never a mouse
    ("ink for my printer", {"intent": "search", "query": "ink printer"}),  # not a printer
    ("charger for my notebook", {"intent": "search", "query": "charger notebook"}),
    ("gray inkjet printer", {"intent": "search", "query": "grey inkjet printer",
                             "colours": ["grey"], "product_type": "printer",
                             "facets": ["print technology=inkjet"]}),
    ("Sharp calculator", {"intent": "search", "query": "sharp calculator", "brands": ["sharp"],
                          "product_type": "calculator"}),
    ("a sharp knife for the office", {"intent": "search", "query": "sharp knife office"}),
    ("Logitech M100", {"intent": "lookup", "query": "logitech m100", "brands": ["logitech"],
                       "codes": ["M100"]}),
    ("compare the Logitech M100 and M500",
     {"intent": "compare", "query": "logitech m100 m500", "brands": ["logitech"],
      "codes": ["M100", "M500"]}),
    ("something nice", {"intent": "clarify", "query": ""}),
    ("hi", {"intent": "clarify", "query": ""}),
    ("something under $30", {"intent": "clarify", "query": "", "max_price": 30.0}),
])
def test_interpret_first_turn(text: str, expected: dict[str, Any]) -> None:
    assert _c(text) == expected


MEMORY = Memory(
    query="wireless mouse",
    constraints=interpret("wireless mouse under $30 in stock", VOCAB).constraints,
    shown=[Shown(sku="a", title="A", brand="HP", product_id="p1", price=19.99),
           Shown(sku="b", title="B", brand="HP", product_id="p2", price=24.0),
           Shown(sku="c", title="C", brand="HP", product_id="p3", price=9.5)],
)
BASE = {"max_price": 30.0, "product_type": "mouse", "facets": ["connectivity technology=wireless"],
        "in_stock": True}


@pytest.mark.parametrize(("text", "expected"), [
    ("what about in white?", {"intent": "search", "query": "wireless mouse white",
                              **BASE, "colours": ["white"]}),
    ("the second one", {"intent": "detail", "query": "", "focus": ["b"]}),
    ("tell me about the last one", {"intent": "detail", "query": "", "focus": ["c"]}),
    ("compare these two", {"intent": "compare", "query": "", "focus": ["a", "b"]}),
    ("compare the first and third", {"intent": "compare", "query": "", "focus": ["a", "c"]}),
    ("is it in stock?", {"intent": "availability", "query": "", "focus": ["a"]}),
    ("cheaper ones", {"intent": "search", "query": "wireless mouse", **BASE,
                      "max_price": 19.98, "sort": "price_desc"}),
    ("under 20?", {"intent": "search", "query": "wireless mouse", **BASE, "max_price": 20.0}),
    ("only Logitech", {"intent": "search", "query": "wireless mouse logitech", **BASE,
                       "brands": ["logitech"]}),
    ("show me more", {"intent": "search", "query": "wireless mouse", **BASE,
                      "exclude": ["a", "b", "c"]}),
    ("what about keyboards?", {"intent": "search", "query": "keyboards", "max_price": 30.0,
                               "product_type": "keyboard", "in_stock": True}),
    ("hp 364 ink", {"intent": "lookup", "query": "hp 364 ink", "brands": ["hp"],
                    "codes": ["364"]}),
])
def test_interpret_follow_ups(text: str, expected: dict[str, Any]) -> None:
    assert _c(text, MEMORY) == expected
