"""Numeric wishes as a table: which range field, which bounds, and only where the tenant's
products state that field; prices are still prices ("under 20 pounds")."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from agents.nodes.understand import interpret
from agents.rules.answer import label
from agents.rules.wishes import describe, range_wishes
from agents.state import no_constraints
from tests.agents.test_understand import VOCAB

ALL = frozenset({"storage_gb", "memory_gb", "screen_in", "power_w", "va", "weight_kg"})
SIZED = dataclasses.replace(VOCAB, ranges=ALL)


@pytest.mark.parametrize(("text", "ranges"), [
    ("notebook with at least 16 GB RAM", {"memory_gb": [16.0, None]}),
    ("laptop 16 gigabytes of memory or more", {"memory_gb": [16.0, None]}),
    ("usb stick at least 64GB", {"storage_gb": [64.0, None]}),
    ("16 GB RAM and 512 GB SSD", {"memory_gb": [15.52, 16.48], "storage_gb": [496.64, 527.36]}),
    ("27 inch monitor", {"screen_in": [26.19, 27.81]}),
    ('monitor under 27"', {"screen_in": [None, 27.0]}),
    ("monitor over 68.6 cm screen", {"screen_in": [27.0, None]}),
    ("ups over 1,000 VA", {"va": [1000.0, None]}),
    ("ups 1.5kVA or more", {"va": [1500.0, None]}),
    ("power supply at least 500 W", {"power_w": [500.0, None]}),
    ("notebook under 2 kg", {"weight_kg": [None, 2.0]}),
    ("usb cable 2 m", {}),  # a length, but not a screen size
    ("wireless mouse", {}),
])
def test_range_wishes(text: str, ranges: dict[str, list[float | None]]) -> None:
    assert range_wishes(text, ALL).ranges == ranges


def test_only_fields_the_tenant_has() -> None:
    assert range_wishes("ups over 1,000 VA", frozenset({"screen_in"})).ranges == {}
    assert range_wishes("at least 16 GB", frozenset({"memory_gb"})).ranges == {
        "memory_gb": [16.0, None]}


@pytest.mark.parametrize(("text", "expected"), [
    ("ups over 1,000 VA under $500", {"ranges": {"va": [1000.0, None]}, "max_price": 500.0,
                                      "query": "ups 1000 va 1000va"}),
    ("monitor at least 27 inch", {"ranges": {"screen_in": [27.0, None]},
                                  "query": "monitor 27 inch 27in"}),
    ("headphones under 20 pounds", {"ranges": {}, "max_price": 20.0}),
    ("16GB usb drive", {"ranges": {"storage_gb": [15.52, 16.48]}, "codes": [],
                        "intent": "search"}),
])
def test_interpret_keeps_sizes_apart_from_prices(text: str, expected: dict[str, Any]) -> None:
    u = interpret(text, SIZED)
    got = {**u.constraints, "query": u.query, "intent": u.intent}
    assert {k: got[k] for k in expected} == expected


def test_no_range_without_the_field() -> None:
    assert interpret("monitor at least 27 inch", VOCAB).constraints["ranges"] == {}


def test_relaxation_names_the_size() -> None:
    c = {**no_constraints(), "ranges": {"memory_gb": [16.0, None], "screen_in": [26.19, 27.81]}}
    assert describe(c["ranges"]) == "at least 16 GB of memory and about 27 inch"
    assert label("ranges", c) == "the size (at least 16 GB of memory and about 27 inch)"  # type: ignore[arg-type]


def test_comparator_words_leave_the_query() -> None:
    u = interpret("notebook with 16 gigabytes of memory or more", SIZED)
    assert u.query == "notebook 16 gigabytes memory 16gb"
    assert u.constraints["ranges"] == {"memory_gb": [16.0, None]}


def test_a_short_code_lifts_titles_that_name_it() -> None:
    from agents.rules.ranking import order

    def cand(sku: str, title: str, rank: int) -> Any:
        return {"sku": sku, "title": title, "rank": rank, "exact": False, "colours": [],
                "facets": []}

    cands = [cand("i5", "Notebook Intel Core i5 8 GB", 0), cand("i7", "Notebook Core i7", 1),
             cand("i3", "Notebook Intel Core i3 4 GB", 2)]
    ranked = order(cands, {}, no_constraints(), "core i3 notebook 16gb")
    assert ranked[0]["sku"] == "i3"
    assert [x["sku"] for x in order(cands, {}, no_constraints(), "notebook")] == ["i5", "i7", "i3"]


def test_a_follow_up_keeps_the_size_and_may_change_it() -> None:
    from agents.state import Memory

    first = interpret("usb flash drive at least 16 GB", SIZED)
    memory = Memory(query=first.query, constraints=first.constraints, shown=[])
    assert interpret("under $20?", SIZED, memory).constraints["ranges"] == {
        "storage_gb": [16.0, None]}
    assert interpret("what about at least 64 GB?", SIZED, memory).constraints["ranges"] == {
        "storage_gb": [64.0, None]}
