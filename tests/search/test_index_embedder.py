"""The index knows which embedder wrote its vectors (both backends), and refuses to mix spaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.errors import IndexUnavailable
from search import IndexPoint, SparseVector, VectorIndex, check_embedder, settle_embedder
from search.index.edge import EdgeIndex, recorded_embedder
from search.index.remote import QdrantClientIndex
from search.payload import point_id

DIM = 4
OLD, NEW = "minilm+torch-fp32", "minilm+onnx-int8-avx2"


def point(tenant: str, sku: str, embedder: str | None) -> IndexPoint:
    payload = {"tenant": tenant, "sku": sku, "content_hash": f"h-{sku}", "version": 1,
               "price": 1.0, "in_stock": 1}
    if embedder:
        payload["embedder"] = embedder
    return IndexPoint(point_id(tenant, sku), [1.0, 0.0, 0.0, 0.0], SparseVector([1], [1.0]),
                      payload)


@pytest.fixture(params=["edge", "client"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    idx: VectorIndex = (EdgeIndex(tmp_path / "shard") if request.param == "edge"
                        else QdrantClientIndex(":memory:", collection="products"))
    idx.ensure_collection(DIM)
    yield idx
    idx.close()


def test_an_empty_index_takes_the_embedder_that_opens_it(index: VectorIndex) -> None:
    assert index.embedder_id() is None
    check_embedder(index, NEW)
    assert index.embedder_id() == NEW
    check_embedder(index, NEW)  # and keeps it


def test_points_from_another_embedder_are_counted_across_tenants(index: VectorIndex) -> None:
    index.upsert([point("a", "1", OLD), point("a", "2", NEW), point("b", "1", None)])
    assert index.count_other_embedders(NEW) == 2  # another embedder, and one that named none
    assert index.count_other_embedders(OLD) == 2


def test_serving_refuses_vectors_from_another_embedder(index: VectorIndex) -> None:
    index.upsert([point("a", "1", OLD), point("a", "2", OLD)])
    check_embedder(index, OLD)
    with pytest.raises(IndexUnavailable) as info:
        check_embedder(index, NEW)
    assert info.value.setting == "SHOPKEEPER_EMBED_BACKEND"
    assert OLD in info.value.message and NEW in info.value.message
    assert "shopkeeper ingest" in info.value.message
    assert index.embedder_id() == OLD  # refusing changes nothing


def test_reembedding_switches_the_record_only_once_every_point_is_new(
    index: VectorIndex,
) -> None:
    index.upsert([point("a", "1", OLD), point("b", "1", OLD)])
    check_embedder(index, OLD)
    check_embedder(index, NEW, reembed=True)  # bulk ingest may go ahead...
    index.upsert([point("a", "1", NEW)])  # ...one tenant re-embedded
    assert settle_embedder(index, NEW) == 1
    assert index.embedder_id() == OLD  # tenant b still holds old vectors
    with pytest.raises(IndexUnavailable):
        check_embedder(index, NEW)
    index.upsert([point("b", "1", NEW)])
    assert settle_embedder(index, NEW) == 0
    assert index.embedder_id() == NEW
    check_embedder(index, NEW)


def test_an_index_that_recorded_nothing_counts_as_another_embedder(index: VectorIndex) -> None:
    """Written before indexes recorded their embedder: re-embed, never guess."""
    index.upsert([point("a", "1", None)])
    with pytest.raises(IndexUnavailable, match="did not record"):
        check_embedder(index, NEW)


def test_the_embedded_record_is_readable_while_the_index_is_open(tmp_path: Path) -> None:
    """``shopkeeper status`` reads it beside a running server, which holds the WAL lock."""
    idx = EdgeIndex(tmp_path / "shard")
    idx.ensure_collection(DIM)
    assert recorded_embedder(tmp_path / "shard") is None
    idx.record_embedder(NEW)
    assert recorded_embedder(tmp_path / "shard") == NEW
    idx.close()
    again = EdgeIndex(tmp_path / "shard")
    assert again.embedder_id() == NEW
    again.close()
    assert recorded_embedder(tmp_path / "nowhere") is None
