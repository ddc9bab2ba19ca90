"""Page points on both backends: product queries and lookups never return them; a page query
returns nothing else."""

from __future__ import annotations

from search.index.base import IndexPoint, SearchFilter, VectorIndex
from search.payload import point_id
from tests.search.index_support import BM25, POINTS_A, basis


def _page(i: int) -> IndexPoint:
    key = f"page:returns#s{i}"
    text = f"Returns policy section {i}: black ink cartridges can be returned"
    payload = {"tenant": "a", "sku": key, "kind": "page", "page_id": "returns",
               "content_hash": f"h{i}", "version": 1, "text": text, "price": None,
               "in_stock": None}
    return IndexPoint(point_id("a", key), basis(i), BM25.embed_documents([text])[0], payload)


def test_product_and_page_queries_stay_apart(index: VectorIndex) -> None:
    index.upsert([*POINTS_A, _page(0), _page(1)])
    sparse = BM25.embed_query("black ink cartridge returned")
    for kw in ({"dense": basis(0)}, {"sparse": sparse}, {"dense": basis(0), "sparse": sparse}):
        products = index.query(SearchFilter("a"), limit=20, **kw)  # type: ignore[arg-type]
        assert products and not any(h.sku.startswith("page:") for h in products)
        pages = index.query(SearchFilter("a", pages=True), limit=20, **kw)  # type: ignore[arg-type]
        assert {h.sku for h in pages} == {"page:returns#s0", "page:returns#s1"}
    assert index.lookup("a", skus=["page:returns#s0", "A1"])[0].sku == "A1"
    assert len(index.lookup("a", skus=["page:returns#s0", "A1"])) == 1
    assert index.query(SearchFilter("b", pages=True), dense=basis(0)) == []
