"""Build the heavy clients once from ``Settings`` and hand them to the CLI, app and benches."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from agents.retrieval import Retriever
from app.settings import Settings
from catalog.sor.base import SystemOfRecord, open_sor
from ingestion.embedder import Embedder
from ingestion.index.base import VectorIndex, open_index
from ingestion.sparse import Bm25Encoder
from ingestion.writer import IndexWriter


@dataclass
class Services:
    """Everything that talks to storage or holds a model, built once per process."""

    settings: Settings
    sor: SystemOfRecord
    index: VectorIndex
    embedder: Embedder
    bm25: Bm25Encoder
    writer: IndexWriter = field(init=False)
    retriever: Retriever = field(init=False)

    def __post_init__(self) -> None:
        self.writer = IndexWriter(self.index, self.embedder, self.bm25)
        self.retriever = Retriever(
            self.index,
            self.embedder,
            self.bm25,
            weights=self.settings.FUSION_WEIGHTS,
            prefetch_limit=self.settings.PREFETCH_LIMIT,
        )


def build_embedder(settings: Settings, *, bulk: bool = False) -> Embedder:
    """The embedder; ``bulk`` (ingest, eval) uses every core, serving uses ``EMBED_THREADS``."""
    threads = (os.cpu_count() or 1) if bulk else settings.EMBED_THREADS
    return Embedder(settings.EMBEDDING_MODEL, batch_size=settings.EMBED_BATCH, threads=threads)


def build_index(settings: Settings, *, dense_size: int) -> VectorIndex:
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = settings.QDRANT_API_KEY.get_secret_value() if settings.QDRANT_API_KEY else None
    index = open_index(
        settings.QDRANT_URL,
        path=str(settings.index_path),
        collection=settings.COLLECTION,
        api_key=key,
    )
    index.ensure_collection(dense_size)
    return index


@asynccontextmanager
async def services(
    settings: Settings, *, embedder: Embedder | None = None
) -> AsyncIterator[Services]:
    """Open the SoR and the index for the duration of a command or the app's lifespan."""
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    sor = open_sor(settings.sor_url)
    await sor.open()
    try:
        embedder = embedder or build_embedder(settings)
        index = build_index(settings, dense_size=embedder.dim)
        try:
            yield Services(
                settings=settings, sor=sor, index=index, embedder=embedder, bm25=Bm25Encoder()
            )
        finally:
            index.close()
    finally:
        await sor.close()
