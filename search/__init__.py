"""The query engine both sides stand on: the index, the encoders, the payload contract, retrieval.

Imports only ``catalog``. The write side (``ingestion``) stores points through it; the read side
(``agents``) searches through it.
"""

from search.embedder import DEFAULT_MODEL_ID, Embedder
from search.fusion import RRF_K, rrf
from search.index import (
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
from search.payload import (
    FACET_ATTRIBUTES,
    PAYLOAD_INDEXES,
    colour_of,
    facets_of,
    format_value,
    normalise_colours,
    normalise_model,
    point_id,
)
from search.retriever import Mode, PageHit, Retriever, code_tokens, exact_first
from search.sparse import Bm25Encoder

__all__ = [
    "DEFAULT_MODEL_ID",
    "DENSE",
    "FACET_ATTRIBUTES",
    "PAYLOAD_INDEXES",
    "RRF_K",
    "SPARSE",
    "Bm25Encoder",
    "Embedder",
    "Hit",
    "IndexPoint",
    "IndexedState",
    "Mode",
    "PageHit",
    "Retriever",
    "SearchFilter",
    "SparseVector",
    "VectorIndex",
    "check_embedder",
    "code_tokens",
    "colour_of",
    "exact_first",
    "facets_of",
    "format_value",
    "normalise_colours",
    "normalise_model",
    "open_index",
    "point_id",
    "rrf",
    "settle_embedder",
]
