"""VectorIndex contract, ordered reads: the index sorts every SKU under the filter by price."""

from __future__ import annotations

import pytest

from search.index.base import SearchFilter, VectorIndex
from tests.search.index_support import make_point, skus


def test_ascending_and_descending_cover_the_whole_tenant(ro_index: VectorIndex) -> None:
    up = ro_index.ordered(SearchFilter("a"), direction="asc", limit=10)
    assert skus(up) == ["A4", "A1", "A2", "A3", "A5"]  # 15, 20, 25, 30, 60
    assert [h.score for h in up] == [15.0, 20.0, 25.0, 30.0, 60.0]
    assert skus(ro_index.ordered(SearchFilter("a"), direction="desc", limit=2)) == ["A5", "A3"]
    assert skus(ro_index.ordered(SearchFilter("b"), limit=10)) == ["A1"]  # tenant b's own


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"in_stock": True}, ["A4", "A1", "A3"]),
        ({"brands": ["hp"], "in_stock": True}, ["A1", "A3"]),
        ({"categories": ["ink"], "min_price": 21.0}, ["A2", "A3"]),
        ({"facets": ["type=ink"], "max_price": 25.0, "in_stock": False}, ["A2"]),
        ({"colours": ["black"], "exclude_skus": ["A1"]}, ["A2", "A5"]),
        ({"brands": ["brother"], "in_stock": True}, []),
    ],
)
def test_order_runs_under_the_full_filter(
    ro_index: VectorIndex, kwargs: dict[str, object], expected: list[str]
) -> None:
    flt = SearchFilter("a", **kwargs)  # type: ignore[arg-type]
    assert skus(ro_index.ordered(flt, limit=10)) == expected


def test_order_follows_a_price_change_in_the_payload(index: VectorIndex) -> None:
    index.set_payload("a", "A5", {"price": 1.0})
    assert skus(index.ordered(SearchFilter("a"), limit=1)) == ["A5"]


def test_cheapest_beyond_any_relevance_top_k(index: VectorIndex) -> None:
    """Fifty dearer ink SKUs do not hide the one cheap cartridge: order-by sees them all."""
    rows = [(f"X{i}", "HP", ["black"], "ink", f"x{i}", [], ["type=ink"], 100.0 + i, 1,
             f"HP X{i} black ink cartridge") for i in range(50)]
    index.upsert([make_point("a", row, i) for i, row in enumerate(rows)])
    cheap = ("Z1", "HP", ["black"], "ink", "z1", [], ["type=ink"], 3.0, 1, "Refill kit")
    index.upsert([make_point("a", cheap, 99)])
    top = index.ordered(SearchFilter("a", categories=["ink"], in_stock=True), limit=3)
    assert skus(top) == ["Z1", "A1", "A3"]


def test_bad_order_requests_are_refused(ro_index: VectorIndex) -> None:
    with pytest.raises(ValueError, match="cannot order by"):
        ro_index.ordered(SearchFilter("a"), key="brand")
    with pytest.raises(ValueError, match="direction"):
        ro_index.ordered(SearchFilter("a"), direction="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 to 1000"):
        ro_index.ordered(SearchFilter("a"), limit=0)
