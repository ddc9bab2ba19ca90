"""VectorIndex contract, queries: every filter kind and the dense, sparse and hybrid modes."""

from __future__ import annotations

from typing import Any

import pytest

from search.index.base import SearchFilter, VectorIndex
from tests.search.index_support import ALL, BM25, POINTS_A, basis, skus

# -- filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, {"A1", "A2", "A3", "A4", "A5"}),
        ({"brands": ["HP"]}, {"A1", "A3"}),
        ({"brands": ["hp", "LOGITECH"]}, {"A1", "A3", "A4"}),
        ({"colours": ["BLACK"]}, {"A1", "A2", "A5"}),
        ({"colours": ["magenta"]}, {"A3"}),
        ({"categories": ["Toner", "mouse"]}, {"A4", "A5"}),
        ({"facets": ["type=ink"]}, {"A1", "A2", "A3"}),
        ({"facets": ["type=ink", "colour=black"]}, {"A1", "A2"}),
        ({"skus": ["A1", "A4", "nope"]}, {"A1", "A4"}),
        ({"exclude_skus": ["A1", "A5"]}, {"A2", "A3", "A4"}),
        ({"min_price": 20.0, "max_price": 30.0}, {"A1", "A2", "A3"}),
        ({"min_price": 26.0}, {"A3", "A5"}),
        ({"max_price": 15.0}, {"A4"}),
        ({"in_stock": True}, {"A1", "A3", "A4"}),
        ({"in_stock": False}, {"A2", "A5"}),
        ({"brands": ["hp"], "in_stock": True, "max_price": 25.0}, {"A1"}),
    ],
)
def test_each_filter_kind(
    ro_index: VectorIndex, kwargs: dict[str, Any], expected: set[str]
) -> None:
    flt = SearchFilter("a", **kwargs)
    assert set(skus(ro_index.query(flt, dense=ALL, limit=20))) == expected
    # the sparse prefetch honours the same filter inside a hybrid query
    sparse = BM25.embed_query("black ink toner mouse cartridge")
    fused = ro_index.query(flt, dense=ALL, sparse=sparse, limit=20)
    assert set(skus(fused)) == expected


# -- ranking modes -----------------------------------------------------------------------


def test_hybrid_ranks_a_doc_top_in_both_first(ro_index: VectorIndex) -> None:
    hits = ro_index.query(
        SearchFilter("a"), dense=basis(0), sparse=BM25.embed_query("HP 301 black ink")
    )
    assert hits[0].sku == "A1"
    assert hits[0].score > hits[1].score
    assert hits[0].payload["text"].startswith("HP 301")


def test_hybrid_returns_the_union(ro_index: VectorIndex) -> None:
    # dense points at the mouse, sparse at the toner: both must surface at the top
    hits = ro_index.query(
        SearchFilter("a"), dense=basis(3), sparse=BM25.embed_query("brother toner"), limit=5
    )
    assert set(skus(hits)[:2]) == {"A4", "A5"}
    assert len(set(skus(hits))) == len(hits)


def test_weighted_rrf_tilts_towards_the_heavier_side(ro_index: VectorIndex) -> None:
    # one candidate per side, so only the weights can break the tie
    flt, dense, sparse = SearchFilter("a"), basis(3), BM25.embed_query("brother toner")

    def fused(weights: tuple[float, float]) -> list[str]:
        return skus(
            ro_index.query(flt, dense=dense, sparse=sparse, prefetch_limit=1, weights=weights)
        )

    assert fused((3.0, 1.0)) == ["A4", "A5"]
    assert fused((1.0, 3.0)) == ["A5", "A4"]


def test_dense_only(ro_index: VectorIndex) -> None:
    hits = ro_index.query(SearchFilter("a"), dense=basis(3), limit=3)
    assert hits[0].sku == "A4" and hits[0].score == pytest.approx(1.0, abs=0.02)
    assert len(hits) == 3


def test_sparse_only(ro_index: VectorIndex) -> None:
    hits = ro_index.query(SearchFilter("a"), sparse=BM25.embed_query("Brother toners"))
    assert hits[0].sku == "A5"
    assert "A4" not in skus(hits)  # no shared term, no sparse score


def test_query_needs_a_vector(ro_index: VectorIndex) -> None:
    with pytest.raises(ValueError):
        ro_index.query(SearchFilter("a"))


def test_payload_comes_back_whole(ro_index: VectorIndex) -> None:
    hit = ro_index.query(SearchFilter("a"), dense=basis(0), limit=1)[0]
    assert hit.payload == POINTS_A[0].payload
