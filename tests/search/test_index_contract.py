"""The VectorIndex contract, run against both backends so they cannot drift apart."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.errors import IndexUnavailable
from search.index.base import IndexPoint, SearchFilter, VectorIndex
from search.index.edge import EdgeIndex
from search.index.remote import QdrantClientIndex
from search.payload import PAYLOAD_INDEXES, point_id
from search.sparse import Bm25Encoder

DIM = 8
BM25 = Bm25Encoder()

# sku, brand, colours, category, model, eans, facets, price, in_stock, text
CATALOG_A: list[tuple[Any, ...]] = [
    ("A1", "HP", ["black"], "ink", "301", ["0001"], ["type=ink", "colour=black"], 20.0, 1,
     "HP 301 black ink cartridge for Deskjet printers"),
    ("A2", "Canon", ["black"], "ink", "pg545", ["0002"], ["type=ink", "colour=black"], 25.0, 0,
     "Canon PG-545 black ink cartridge for Pixma printers"),
    ("A3", "HP", ["cyan", "magenta", "yellow"], "ink", "302", ["0003", "0033"],
     ["type=ink", "colour=tri"], 30.0, 1, "HP 302 tri-colour ink cartridge"),
    ("A4", "Logitech", ["grey"], "mouse", "m185", ["0004"], ["type=mouse"], 15.0, 1,
     "Logitech M185 wireless mouse, grey"),
    ("A5", "Brother", ["black"], "toner", "tn2420", ["0005"], ["type=toner"], 60.0, 0,
     "Brother TN-2420 black toner cartridge, high yield"),
]  # fmt: skip


def basis(i: int, noise: float = 0.05) -> list[float]:
    """Mostly-orthogonal unit-ish vectors: query basis(i) finds doc i first by cosine."""
    return [1.0 if j == i % DIM else noise for j in range(DIM)]


def make_point(tenant: str, row: tuple[Any, ...], i: int, version: int = 1) -> IndexPoint:
    sku, brand, colours, category, model, eans, facets, price, in_stock, text = row
    payload = {
        "tenant": tenant,
        "sku": sku,
        "product_id": f"p-{sku}",
        "brand": brand.lower(),
        "brand_display": brand,
        "colour": colours,
        "category": category,
        "model_number": model,
        "ean": eans,
        "facets": facets,
        "price": price,
        "in_stock": in_stock,
        "content_hash": f"h-{tenant}-{sku}",
        "version": version,
        "text": text,
        "title": text.split(",")[0],
    }
    return IndexPoint(point_id(tenant, sku), basis(i), BM25.embed_documents([text])[0], payload)


POINTS_A = [make_point("a", row, i) for i, row in enumerate(CATALOG_A)]
# Tenant b reuses SKU "A1" with the same text and vector but another price: isolation bait.
POINTS_B = [make_point("b", (*CATALOG_A[0][:7], 99.0, 1, CATALOG_A[0][9]), 0)]


def _loaded(kind: str, path: Path) -> VectorIndex:
    idx: VectorIndex
    if kind == "edge":
        idx = EdgeIndex(path)
    else:
        idx = QdrantClientIndex(":memory:", collection="products")
    idx.ensure_collection(DIM)
    idx.upsert(POINTS_A + POINTS_B)
    return idx


@pytest.fixture(params=["edge", "client"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    """A fresh, writable index per test."""
    idx = _loaded(request.param, tmp_path / "shard")
    yield idx
    idx.close()


@pytest.fixture(scope="module", params=["edge", "client"])
def ro_index(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VectorIndex]:
    """One shared index per backend for tests that only read (creating shards costs fsyncs)."""
    idx = _loaded(request.param, tmp_path_factory.mktemp("ro") / "shard")
    yield idx
    idx.close()


def skus(hits: list[Any]) -> list[str]:
    return [h.sku for h in hits]


ALL = basis(0, noise=1.0)  # positive cosine with every doc


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


# -- edge specifics ----------------------------------------------------------------------


def test_edge_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "shard"
    idx = EdgeIndex(path)
    idx.ensure_collection(DIM)
    idx.upsert(POINTS_A)
    idx.set_payload("a", "A2", {"price": 21.0})
    idx.delete("a", ["A5"])
    idx.flush()
    idx.close()

    again = EdgeIndex(path)  # opens the existing shard without ensure_collection
    assert again.count("a") == 4
    assert again.states("a", ["A2"])["A2"].price == 21.0
    again.ensure_collection(DIM)  # loading an existing shard keeps its data
    assert again.count("a") == 4
    assert again.query(SearchFilter("a"), dense=basis(3), limit=1)[0].sku == "A4"
    assert set(again.shard.info().payload_schema) == set(PAYLOAD_INDEXES)
    with pytest.raises(IndexUnavailable, match="16-d"):
        again.ensure_collection(16)
    again.close()


def test_edge_reopen_without_explicit_flush(tmp_path: Path) -> None:
    """close() flushes, so a clean shutdown never loses acknowledged writes."""
    idx = EdgeIndex(tmp_path / "s")
    idx.ensure_collection(DIM)
    idx.upsert(POINTS_A)
    idx.close()
    idx.close()  # idempotent
    again = EdgeIndex(tmp_path / "s")
    assert again.count("a") == 5
    again.close()


def test_edge_second_open_on_same_dir_is_refused(tmp_path: Path) -> None:
    first = EdgeIndex(tmp_path / "s")
    first.ensure_collection(DIM)
    with pytest.raises(IndexUnavailable) as exc:
        EdgeIndex(tmp_path / "s")
    assert exc.value.setting == "SHOPKEEPER_DATA_DIR"
    assert "another process" in str(exc.value) and "\n" not in str(exc.value)
    first.close()
    EdgeIndex(tmp_path / "s").close()  # the lock is released on close


def test_edge_lock_holds_across_processes(tmp_path: Path) -> None:
    first = EdgeIndex(tmp_path / "s")
    first.ensure_collection(DIM)
    code = (
        "import sys\n"
        "from catalog.errors import IndexUnavailable\n"
        "from search.index.edge import EdgeIndex\n"
        "try:\n"
        "    EdgeIndex(sys.argv[1])\n"
        "except IndexUnavailable as e:\n"
        "    print(e.setting); sys.exit(3)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    first.close()
    assert out.returncode == 3, out.stderr
    assert out.stdout.strip() == "SHOPKEEPER_DATA_DIR"


def test_edge_corrupt_dir_is_index_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "s"
    path.mkdir()
    (path / "edge_config.json").write_text("{not json")
    with pytest.raises(IndexUnavailable) as exc:
        EdgeIndex(path)
    assert exc.value.setting == "SHOPKEEPER_DATA_DIR" and "\n" not in str(exc.value)


# -- client specifics --------------------------------------------------------------------


def test_client_unreachable_server_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: connection refused
    idx = QdrantClientIndex(f"http://127.0.0.1:{port}", collection="products")
    for call in (lambda: idx.count("a"), lambda: idx.ensure_collection(DIM)):
        with pytest.raises(IndexUnavailable) as exc:
            call()
        assert exc.value.setting == "SHOPKEEPER_QDRANT_URL"
        assert "\n" not in str(exc.value)
    idx.close()


def test_model_numbers_are_matched_in_one_normal_form() -> None:
    """Chunker and lookup share ``search.payload.normalise_model``: spaces, dashes, slashes,
    dots and underscores go, case folds."""
    from search.payload import normalise_model

    expected = {"CF-226X / 26X": "cf226x26x", "TN 2420": "tn2420", "pg_545.b": "pg545b",
                "HP301": "hp301", None: ""}
    for raw, normal in expected.items():
        assert normalise_model(raw) == normal
