"""The index interface both backends implement, and the value types that cross it.

Points are keyed by ``uuid5(tenant, sku)``; every query carries a mandatory tenant filter.
Sparse vectors are computed client-side (Qdrant's BM25 tokenizer) and stored with the IDF
modifier, so both backends score BM25 the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from catalog import IndexUnavailable

DENSE = "dense"
SPARSE = "bm25"
Direction = Literal["asc", "desc"]
# Payload fields ``ordered`` may sort by: float fields with a range index (see search.payload).
ORDER_KEYS = frozenset({"price"})


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class IndexPoint:
    """One SKU as stored: deterministic id, two vectors and the filterable payload."""

    id: str
    dense: Sequence[float]
    sparse: SparseVector
    payload: dict[str, Any]


@dataclass(frozen=True)
class SearchFilter:
    """Payload filters; ``tenant`` is mandatory so no query can cross shops."""

    tenant: str
    brands: Sequence[str] = ()
    colours: Sequence[str] = ()
    categories: Sequence[str] = ()
    facets: Sequence[str] = ()  # "key=value" strings, all must match
    skus: Sequence[str] = ()
    exclude_skus: Sequence[str] = ()
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None
    pages: bool = False  # store page sections (kind="page") instead of products
    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Inclusive numeric bounds on range fields (``search.units.RANGE_FIELDS``), all must hold;
    a point without the field does not match."""
    types: Sequence[str] = ()  # product types (``product_type`` payload), any may match

    def __post_init__(self) -> None:
        if not self.tenant:
            raise ValueError("a tenant filter is mandatory on every query")


@dataclass(frozen=True)
class Hit:
    sku: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexedState:
    """What the index holds for one SKU: enough to decide whether a change is stale or unchanged."""

    sku: str
    content_hash: str
    version: int
    price: float | None
    in_stock: int | None


class VectorIndex(Protocol):
    """Write and query side of the index; synchronous because the embedded engine answers in ms."""

    def ensure_collection(self, dense_size: int) -> None:
        """Create the collection, its named vectors and payload indexes if missing."""

    def upsert(self, points: Sequence[IndexPoint]) -> None: ...

    def set_payload(self, tenant: str, sku: str, payload: dict[str, Any]) -> None:
        """Merge payload keys into one point without touching its vectors."""

    def delete(self, tenant: str, skus: Sequence[str]) -> None: ...

    def query(
        self,
        flt: SearchFilter,
        *,
        dense: Sequence[float] | None = None,
        sparse: SparseVector | None = None,
        limit: int = 10,
        prefetch_limit: int = 100,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Hit]:
        """Dense-only, sparse-only, or both legs under the same filter fused by
        ``search.fusion`` (weighted RRF over ``prefetch_limit`` hits per leg)."""

    def ordered(
        self, flt: SearchFilter, *, key: str = "price", direction: Direction = "asc",
        limit: int = 60,
    ) -> list[Hit]:
        """Every point under ``flt`` sorted by a payload field in the index (order-by), not
        just the most relevant few: "cheapest" must see the whole catalog. ``score`` is the
        field's value; points without it are left out."""

    def lookup(
        self,
        tenant: str,
        *,
        skus: Sequence[str] = (),
        model_numbers: Sequence[str] = (),
        eans: Sequence[str] = (),
        flt: SearchFilter | None = None,
        product_ids: Sequence[str] = (),
    ) -> list[Hit]:
        """Exact match on SKU, model number (normalised), EAN or product id (every variant of
        the product), under ``flt`` when given."""

    def states(self, tenant: str, skus: Sequence[str]) -> dict[str, IndexedState]: ...

    def iter_states(self, tenant: str) -> Iterator[IndexedState]:
        """Every point of a tenant (for re-ingest skipping and the crash test)."""

    def count(self, tenant: str) -> int: ...

    def embedder_id(self) -> str | None:
        """The embedder the collection's metadata says its vectors come from (None: unset)."""

    def record_embedder(self, model_id: str) -> None:
        """Note in the collection's metadata that every vector now comes from ``model_id``."""

    def count_other_embedders(self, model_id: str) -> int:
        """Points of any tenant whose ``embedder`` payload is not ``model_id`` (or is missing)."""

    def flush(self) -> None:
        """Make every write so far durable."""

    def optimize(self) -> None:
        """Build HNSW and payload indexes after bulk load."""

    def close(self) -> None: ...


EMBEDDER_SETTING = "SHOPKEEPER_EMBED_BACKEND"


def check_order(key: str, direction: str, limit: int) -> None:
    """Refuse an order-by the payload has no range index for, or a silly page size."""
    if key not in ORDER_KEYS:
        raise ValueError(f"cannot order by {key!r}; orderable fields: {sorted(ORDER_KEYS)}")
    if direction not in ("asc", "desc"):
        raise ValueError("direction must be 'asc' or 'desc'")
    if not 1 <= limit <= 1000:
        raise ValueError("an ordered read takes 1 to 1000 points")


def check_embedder(index: VectorIndex, model_id: str, *, reembed: bool = False) -> None:
    """Refuse to query vectors from another embedder: the spaces differ, and mixing them ranks
    silently wrong. An index whose points all come from ``model_id`` (or that is empty) is
    recorded as ``model_id``'s. ``reembed`` (bulk ingest) lets the caller re-embed a foreign
    index, after which ``settle_embedder`` records it."""
    recorded = index.embedder_id()
    if recorded == model_id:
        return
    others = index.count_other_embedders(model_id)
    if others == 0:
        index.record_embedder(model_id)
        return
    if reembed:
        return
    held = recorded or "an embedder it did not record (written before it recorded one)"
    raise IndexUnavailable(
        f"the index holds {others} vectors from {held}, not from {model_id}: run "
        "`shopkeeper ingest` to re-embed them, or switch back to the embedder that wrote them",
        setting=EMBEDDER_SETTING,
    )


def settle_embedder(index: VectorIndex, model_id: str) -> int:
    """After a bulk write: record ``model_id`` if no point of any tenant has other vectors;
    returns how many still do (other tenants not re-ingested yet)."""
    others = index.count_other_embedders(model_id)
    if others == 0 and index.embedder_id() != model_id:
        index.record_embedder(model_id)
    return others


def open_index(
    url: str | None, *, path: str, collection: str, api_key: str | None = None
) -> VectorIndex:
    """Embedded Qdrant Edge at ``path`` when ``url`` is empty; qdrant-client otherwise.

    ``url`` may be ``http(s)://host:6333`` for a server or cluster, or ``:memory:`` for
    qdrant-client's local mode (same client API, used in tests).
    """
    if not url:
        from search.index.edge import EdgeIndex

        return EdgeIndex(path)
    from search.index.remote import QdrantClientIndex

    return QdrantClientIndex(url, collection=collection, api_key=api_key)
