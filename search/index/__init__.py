"""The vector index: one small interface, an embedded Qdrant Edge and a Qdrant server backend."""

from search.index.base import (
    DENSE,
    SPARSE,
    Hit,
    IndexedState,
    IndexPoint,
    SearchFilter,
    SparseVector,
    VectorIndex,
    check_embedder,
    open_index,
    settle_embedder,
)

__all__ = [
    "DENSE",
    "SPARSE",
    "Hit",
    "IndexPoint",
    "IndexedState",
    "SearchFilter",
    "SparseVector",
    "VectorIndex",
    "check_embedder",
    "open_index",
    "settle_embedder",
]
