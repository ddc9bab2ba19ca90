"""One pydantic-settings ``Settings`` (prefix ``SHOPKEEPER_``); no settings = embedded defaults."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog import check_url_template
from catalog.pages import DEMO_PAGES_DIR


def hash_key(raw: str) -> str:
    """API keys are compared by SHA-256 so the plain key never needs to be stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Settings(BaseSettings):
    """Everything that differs between a laptop and a deployment."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPKEEPER_", env_file=".env", extra="ignore", frozen=True
    )

    DATA_DIR: Path = Field(Path(".shopkeeper"), description="Where embedded state lives.")
    TENANT: str = Field("demo", description="Default tenant (shop) for CLI and widget.")

    # System of record
    SOR_URL: str = Field(
        "", description="sqlite:///path.db or postgresql://... ; empty = SQLite in DATA_DIR"
    )
    SOR_TIMEOUT_S: float = 0.5
    SOR_RETRIES: int = 1

    # Vector index
    QDRANT_URL: str = Field(
        "", description="Empty = embedded Qdrant Edge; http(s)://host:6333 = server"
    )
    QDRANT_API_KEY: SecretStr | None = None
    COLLECTION: str = "products"

    # Embedding
    EMBEDDING_MODEL: str = Field(
        "", description="sentence-transformers name or path; empty = bundled MiniLM"
    )
    EMBED_BACKEND: Literal["onnx", "torch"] = Field(
        "onnx", description="onnx = ONNX Runtime (exported once into MODEL_DIR); torch = PyTorch"
    )
    EMBED_QUANTIZE: Literal["int8", "fp32"] = Field(
        "int8",
        description="onnx only: int8 = dynamically quantised (the fastest, cosine to fp32 "
        ">= 0.99), fp32 = full precision; torch always runs fp32",
    )
    EMBED_INT8_KERNEL: Literal["auto", "avx512_vnni", "avx512", "avx2", "arm64"] = Field(
        "auto", description="int8 kernel variant; auto = the best this CPU has (no int8: fp32)"
    )
    MODEL_DIR: Path | None = Field(
        None, description="Where the ONNX export is kept; empty = DATA_DIR/models"
    )
    # Most texts per model call; calls are also cut at a padded-token budget (search/embedder.py).
    EMBED_BATCH: int = 256
    # Intra-op threads per query embedding in serving processes; bulk work (ingest, eval, the
    # change worker) uses every core. One: concurrency comes from the retrieval thread pool, and
    # two OpenMP threads per torch query on 2 busy cores took ~300 ms (bench/search.py).
    EMBED_THREADS: int = 1

    # Retrieval tuning
    # (dense, bm25) RRF weights. BM25 counts double: shoppers type product words and model
    # numbers, which lexical matching ranks better than MiniLM (dev nDCG@10 0.785 vs 0.615).
    FUSION_WEIGHTS: tuple[float, float] = (1.0, 2.0)
    PREFETCH_LIMIT: int = 100

    # Cache / stream
    REDIS_URL: str = Field("", description="redis://host:6379/0 ; empty = no stock cache")
    STOCK_CACHE_TTL_S: float = 2.0
    KAFKA_BOOTSTRAP: str = ""
    KAFKA_TOPIC: str = "shopkeeper.catalog.changes"
    KAFKA_GROUP: str = "shopkeeper-indexer"

    # Worker
    WORKER_MODE: Literal["inprocess", "external", "off"] = "inprocess"
    WORKER_QUEUE_SIZE: int = 1000
    WORKER_BATCH_SIZE: int = 64
    # 5 ms: price/stock p99 57 ms at 50 changes/s against 108-224 ms with 20 ms (docs/cdc.md).
    WORKER_BATCH_MS: int = 5
    WORKER_MAX_ATTEMPTS: int = 5
    WORKER_LEASE_S: float = 30.0  # outbox lease: a crashed worker's rows return after it

    # LLM (optional)
    LLM_PROVIDER: Literal["none", "openai", "init_chat_model"] = "none"
    LLM_MODEL: str = ""
    LLM_BASE_URL: str = ""
    LLM_API_KEY: SecretStr | None = None
    LLM_TIMEOUT_S: float = 30.0

    # Tracing (OpenTelemetry, off unless an endpoint is set)
    OTLP_ENDPOINT: str = Field(
        "", description="OTLP/HTTP collector, e.g. http://collector:4318 (spans go to "
        "/v1/traces); empty = no tracing",
    )
    TRACE_CONTENT: bool = Field(
        False, description="Record prompts, replies and tool arguments on LLM spans "
        "(gen_ai.*); off: they may hold personal data",
    )
    TRACE_SAMPLE_RATIO: float = Field(
        1.0, ge=0.0, le=1.0,
        description="Share of new traces kept; a caller's traceparent decides for its own",
    )
    SERVICE_NAME: str = Field("shopkeeper", description="service.name of every span")

    # HTTP security
    ASSIST_API_KEY_HASHES: list[str] = Field(
        default_factory=list, description="sha256 hex of agent keys"
    )
    INGEST_API_KEY_HASHES: list[str] = Field(
        default_factory=list, description="sha256 hex of ingest keys"
    )
    CORS_ORIGINS: list[str] = Field(default_factory=list)
    RATE_LIMIT_PER_MIN: int = 120
    MAX_MESSAGE_CHARS: int = 2000
    MAX_HISTORY_MESSAGES: int = 50
    MAX_BODY_BYTES: int = Field(
        1_048_576, description="Largest request body (413 above it); the webhook has its own"
    )
    WEBHOOK_MAX_BODY_BYTES: int = Field(
        16_777_216, description="Largest body for POST /v1/catalog/events (up to 1000 events)"
    )

    # Cards
    # Store pages (shipping, returns, warranty, payment, contact): docs/store-pages.md
    PAGES_DIR: Path | None = Field(
        None, description="Folder of the shop's Markdown pages; empty = the bundled demo pages"
    )

    PRODUCT_URL_TEMPLATE: str = Field(
        "", description="Product page for catalogs without a url, e.g. https://shop.example/p/{sku}"
        " ({sku} and {product_id} are filled in, URL-encoded); empty = no link",
    )

    @field_validator("TENANT")
    @classmethod
    def _tenant_ok(cls, v: str) -> str:
        if not v or len(v) > 64:
            raise ValueError("TENANT must be 1-64 characters")
        return v

    @field_validator("PRODUCT_URL_TEMPLATE")
    @classmethod
    def _template_ok(cls, v: str) -> str:
        return check_url_template(v.strip())

    @cached_property
    def sor_url(self) -> str:
        return self.SOR_URL or f"sqlite:///{(self.DATA_DIR / 'catalog.db').resolve()}"

    @cached_property
    def pages_dir(self) -> Path:
        return self.PAGES_DIR or DEMO_PAGES_DIR

    @cached_property
    def index_path(self) -> Path:
        return self.DATA_DIR / "qdrant"

    @cached_property
    def model_path(self) -> Path:
        return self.MODEL_DIR or self.DATA_DIR / "models"

    @cached_property
    def checkpoint_path(self) -> Path:
        return self.DATA_DIR / "threads.db"

    @property
    def embedded(self) -> bool:
        """True when one process owns the embedded index (so the worker runs in-process)."""
        return not self.QDRANT_URL
