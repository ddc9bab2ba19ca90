"""Client-side BM25 sparse vectors (Qdrant Edge's tokenizer), identical for both index backends."""

from __future__ import annotations

from collections.abc import Iterable

import qdrant_edge as qe

from search.index.base import SparseVector
from search.units import unit_tokens

# Bump when what the encoder adds to a text changes: it is part of every chunk's content hash,
# so the next ingest re-computes the sparse vectors (and the payload fields read with them).
ANALYSER_VERSION = "units-1"

# Our chunk texts run ~60-120 tokens; BM25's default avg_len of 256 would treat every chunk as
# short and flatten length normalisation.
DEFAULT_AVG_LEN = 80.0


def with_unit_tokens(text: str) -> str:
    """The text plus canonical quantity and code tokens, so "16 GB", "16GB" and "16 gigabytes"
    share the token "16gb" and "USB-C" also reads as "usbc"; the same on both sides."""
    extra = unit_tokens(text)
    return f"{text}\n{' '.join(extra)}" if extra else text


class Bm25Encoder:
    """BM25 term weights for documents, unit weights for queries; IDF is applied by the index.

    Short codes ("i3", "A3", "DDR4") stay single tokens in Qdrant's tokenizer; quantities get
    their canonical tokens added (``with_unit_tokens``) on both sides."""

    def __init__(
        self,
        *,
        avg_len: float = DEFAULT_AVG_LEN,
        k: float = 1.2,
        b: float = 0.75,
        language: str = "english",
        ascii_folding: bool = True,
    ) -> None:
        # English stemmer and stopwords come with the language; folding makes "cafe" find "café".
        self.config = qe.Bm25Config(
            k=k, b=b, avg_len=avg_len, language=language, ascii_folding=ascii_folding
        )
        self._model = qe.Bm25(self.config)

    def embed_documents(self, texts: Iterable[str]) -> list[SparseVector]:
        """One vector per chunk text, in order (~30 us each, so no batching needed)."""
        embed = self._model.embed_document
        return [_convert(embed(with_unit_tokens(t))) for t in texts]

    def embed_query(self, text: str) -> SparseVector:
        return _convert(self._model.embed_query(with_unit_tokens(text)))


def _convert(v: qe.SparseVector) -> SparseVector:
    return SparseVector(indices=list(v.indices), values=list(v.values))
