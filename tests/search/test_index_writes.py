"""VectorIndex contract, writes and exact lookups: payload merges, deletes, states."""

from __future__ import annotations

import pytest

from search.index.base import SearchFilter, VectorIndex
from tests.search.index_support import BM25, POINTS_A, basis, skus

# -- writes ------------------------------------------------------------------------------


def test_set_payload_merges_without_touching_vectors(index: VectorIndex) -> None:
    index.set_payload("a", "A1", {"price": 5.0, "in_stock": 0})
    hits = index.query(SearchFilter("a", max_price=10.0, in_stock=False), dense=basis(0))
    assert skus(hits) == ["A1"]
    assert hits[0].score == pytest.approx(1.0, abs=0.02)  # same dense vector
    assert hits[0].payload["text"] == POINTS_A[0].payload["text"]  # other keys kept
    sparse_hits = index.query(SearchFilter("a"), sparse=BM25.embed_query("deskjet"))
    assert skus(sparse_hits) == ["A1"]  # sparse vector intact too
    state = index.states("a", ["A1"])["A1"]
    assert (state.price, state.in_stock) == (5.0, 0)
    assert index.states("b", ["A1"])["A1"].price == 99.0


def test_set_payload_never_creates_a_point(index: VectorIndex) -> None:
    index.set_payload("a", "GHOST", {"price": 1.0})
    index.set_payload("c", "A1", {"price": 1.0})
    assert index.count("a") == 5 and index.count("c") == 0
    assert index.states("a", ["GHOST"]) == {}
    assert index.lookup("a", skus=["GHOST"]) == []


def test_set_payload_cannot_move_a_point(index: VectorIndex) -> None:
    with pytest.raises(ValueError):
        index.set_payload("a", "A1", {"tenant": "b"})


def test_delete(index: VectorIndex) -> None:
    index.delete("a", ["A1", "A4", "never-existed"])
    assert index.count("a") == 3
    assert index.lookup("a", skus=["A1", "A4"]) == []
    assert "A1" not in skus(index.query(SearchFilter("a"), dense=basis(0)))
    assert index.count("b") == 1  # same SKU, other tenant, untouched
    index.delete("a", [])


# -- exact lookups and states ------------------------------------------------------------


def test_lookup_by_sku_model_and_ean(ro_index: VectorIndex) -> None:
    assert skus(ro_index.lookup("a", skus=["A2"])) == ["A2"]
    assert skus(ro_index.lookup("a", model_numbers=["PG-545"])) == ["A2"]
    assert skus(ro_index.lookup("a", model_numbers=["TN 2420"])) == ["A5"]
    assert skus(ro_index.lookup("a", eans=["0033"])) == ["A3"]
    both = ro_index.lookup("a", skus=["A4"], eans=["0001"])
    assert skus(both) == ["A4", "A1"]  # requested SKUs first
    assert all(h.score == 1.0 and h.payload for h in both)
    assert ro_index.lookup("a") == []
    assert ro_index.lookup("a", model_numbers=["nothing"]) == []


def test_lookup_by_product_id_stays_in_its_tenant(ro_index: VectorIndex) -> None:
    assert skus(ro_index.lookup("a", product_ids=["p-A3"])) == ["A3"]
    assert skus(ro_index.lookup("a", skus=["A5"], product_ids=["p-A2", "p-none"])) == ["A5", "A2"]
    other = ro_index.lookup("b", product_ids=["p-A1"])
    assert [(h.sku, h.payload["price"]) for h in other] == [("A1", 99.0)]
    hp_only = SearchFilter("a", brands=["hp"])
    assert skus(ro_index.lookup("a", product_ids=["p-A1", "p-A2"], flt=hp_only)) == ["A1"]


def test_states_and_iter_states(ro_index: VectorIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    states = ro_index.states("a", ["A1", "A2", "nope"])
    assert set(states) == {"A1", "A2"}
    assert states["A2"].content_hash == "h-a-A2"
    assert (states["A2"].version, states["A2"].price, states["A2"].in_stock) == (1, 25.0, 0)
    assert ro_index.states("a", []) == {}
    # small pages so the scroll has to continue from an offset
    monkeypatch.setattr("search.index.edge.SCROLL_PAGE", 2)
    monkeypatch.setattr("search.index.remote.SCROLL_PAGE", 2)
    listed = list(ro_index.iter_states("a"))
    assert sorted(s.sku for s in listed) == ["A1", "A2", "A3", "A4", "A5"]
    assert {s.content_hash for s in listed} == {f"h-a-A{i}" for i in range(1, 6)}
    assert [s.sku for s in ro_index.iter_states("b")] == ["A1"]
    assert list(ro_index.iter_states("c")) == []


def test_optimize_and_flush_keep_everything(index: VectorIndex) -> None:
    index.flush()
    index.optimize()
    assert index.count("a") == 5
    assert index.query(SearchFilter("a"), dense=basis(2), limit=1)[0].sku == "A3"


def test_model_numbers_are_matched_in_one_normal_form() -> None:
    """Chunker and lookup share ``search.payload.normalise_model``: spaces, dashes, slashes,
    dots and underscores go, case folds."""
    from search.payload import normalise_model

    expected = {"CF-226X / 26X": "cf226x26x", "TN 2420": "tn2420", "pg_545.b": "pg545b",
                "HP301": "hp301", None: ""}
    for raw, normal in expected.items():
        assert normalise_model(raw) == normal
