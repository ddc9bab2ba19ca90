"""VectorIndex contract, schema and tenancy: collections, payload indexes, isolation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.errors import IndexUnavailable
from search.index.base import IndexPoint, SearchFilter, VectorIndex
from search.index.edge import EdgeIndex
from search.index.remote import QdrantClientIndex
from search.payload import PAYLOAD_INDEXES, point_id
from tests.search.index_support import BM25, DIM, POINTS_A, basis

# -- schema ------------------------------------------------------------------------------


def test_ensure_collection_is_idempotent(index: VectorIndex) -> None:
    index.ensure_collection(DIM)
    index.ensure_collection(DIM)
    assert index.count("a") == 5
    assert index.count("b") == 1


def test_upsert_same_ids_does_not_duplicate(index: VectorIndex) -> None:
    index.upsert(POINTS_A)
    assert index.count("a") == 5


def test_upsert_rejects_an_id_that_is_not_point_id(index: VectorIndex) -> None:
    p = POINTS_A[0]
    with pytest.raises(ValueError, match="point_id"):
        index.upsert([IndexPoint(point_id("a", "other"), p.dense, p.sparse, p.payload)])


def test_edge_payload_indexes_present(tmp_path: Path) -> None:
    idx = EdgeIndex(tmp_path / "s")
    idx.ensure_collection(DIM)
    schema = idx.shard.info().payload_schema
    assert set(schema) == set(PAYLOAD_INDEXES)
    assert getattr(schema["tenant"].params, "is_tenant", None) is True
    assert str(schema["price"].data_type).endswith("Float")
    assert str(schema["in_stock"].data_type).endswith("Integer")
    assert str(schema["sku"].data_type).endswith("Keyword")
    idx.close()


def test_client_creates_every_payload_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mode keeps no payload schema, so check the calls a server would receive."""
    idx = QdrantClientIndex(":memory:", collection="products")
    calls: dict[str, Any] = {}
    real = idx.client.create_payload_index

    def spy(collection: str, field_name: str, **kw: Any) -> Any:
        calls[field_name] = kw["field_schema"]
        return real(collection, field_name, **kw)

    monkeypatch.setattr(idx.client, "create_payload_index", spy)
    idx.ensure_collection(DIM)
    assert set(calls) == set(PAYLOAD_INDEXES)
    assert calls["tenant"].is_tenant is True
    assert str(calls["price"]).lower().endswith("float")
    assert str(calls["in_stock"]).lower().endswith("integer")
    idx.close()


def test_missing_collection_is_index_unavailable(tmp_path: Path) -> None:
    for idx in (EdgeIndex(tmp_path / "empty"), QdrantClientIndex(":memory:", collection="x")):
        with pytest.raises(IndexUnavailable) as exc:
            idx.count("a")
        assert "\n" not in str(exc.value)
        idx.close()


# -- tenancy -----------------------------------------------------------------------------


def test_tenant_isolation(ro_index: VectorIndex) -> None:
    sparse = BM25.embed_query("hp 301 black ink")
    for hits in (
        ro_index.query(SearchFilter("a"), dense=basis(0), sparse=sparse),
        ro_index.query(SearchFilter("a"), dense=basis(0)),
        ro_index.query(SearchFilter("a"), sparse=sparse),
        ro_index.lookup("a", skus=["A1"], model_numbers=["301"], eans=["0001"]),
    ):
        assert hits and all(h.payload["tenant"] == "a" for h in hits)
        assert 99.0 not in [h.payload["price"] for h in hits]
    b_hits = ro_index.query(SearchFilter("b"), dense=basis(0), sparse=sparse)
    assert [(h.sku, h.payload["price"]) for h in b_hits] == [("A1", 99.0)]
    assert ro_index.count("a") == 5 and ro_index.count("b") == 1 and ro_index.count("c") == 0
    assert ro_index.states("a", ["A1"])["A1"].price == 20.0
    assert ro_index.states("b", ["A1"])["A1"].price == 99.0


def test_search_filter_requires_tenant() -> None:
    with pytest.raises(ValueError):
        SearchFilter("")
