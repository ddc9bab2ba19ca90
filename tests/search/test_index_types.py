"""The ``product_type`` payload: an indexed keyword filter on both backends, and the type boost."""

from __future__ import annotations

import pytest

from search.index.base import Hit, SearchFilter, VectorIndex
from search.payload import PAYLOAD_INDEXES
from search.retriever import boosted
from tests.search.index_support import ALL, POINTS_A, skus

TYPES = {"A1": "ink cartridge", "A2": "ink cartridge", "A3": "ink cartridge", "A4": "mouse",
         "A5": "toner cartridge"}


@pytest.fixture
def typed(index: VectorIndex) -> VectorIndex:
    for p in POINTS_A:
        index.set_payload("a", p.payload["sku"], {"product_type": TYPES[p.payload["sku"]]})
    return index


@pytest.mark.parametrize(("types", "expected"), [
    (["mouse"], {"A4"}),
    (["ink cartridge", "Toner Cartridge "], {"A1", "A2", "A3", "A5"}),
    (["lock"], set()),
    ([], {"A1", "A2", "A3", "A4", "A5"}),
])
def test_type_filter(typed: VectorIndex, types: list[str], expected: set[str]) -> None:
    flt = SearchFilter("a", types=types)
    assert set(skus(typed.query(flt, dense=ALL, limit=20))) == expected
    assert set(skus(typed.query(SearchFilter("a", types=types, in_stock=True), dense=ALL,
                                limit=20))) == expected & {"A1", "A3", "A4"}


def test_product_type_is_an_indexed_keyword() -> None:
    assert PAYLOAD_INDEXES["product_type"] == "keyword"


def test_boost_puts_the_wanted_types_first_and_keeps_the_rest() -> None:
    hits = [Hit(s, 1.0 / (i + 1), {"product_type": t}) for i, (s, t) in
            enumerate([("n1", "notebook"), ("l1", "cable lock"), ("n2", "notebook"),
                       ("c1", "charger")])]
    assert [h.sku for h in boosted(hits, ["charger", "power adapter"], 10)] == [
        "c1", "n1", "l1", "n2"]
    assert [h.sku for h in boosted(hits, [], 2)] == ["n1", "l1"]
    assert [h.sku for h in boosted(hits, ["lock"], 10)] == ["n1", "l1", "n2", "c1"]
