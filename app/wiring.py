"""Build the heavy clients once from ``Settings`` and hand them to the CLI, app and benches.

The only place ``Settings`` turns into components: the layers below take typed config objects
or plain arguments (``WorkerConfig``, ``LiveLookup(timeout_s=...)``, ``Retriever(weights=...)``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.settings import Settings
from catalog.sor import SystemOfRecord, open_sor
from catalog.tracing import NO_TRACER, Tracer
from ingestion import ChangeWorker, IndexWriter, KafkaConfig, WorkerConfig, replay_worker
from search import Bm25Encoder, Embedder, Retriever, VectorIndex, check_embedder, open_index

if TYPE_CHECKING:  # the agent stack (langgraph, langchain) loads only where an agent is opened:
    # a worker process restarts often and must not pay seconds of imports for it
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from agents import ShoppingAgent


@dataclass
class Services:
    """Everything that talks to storage or holds a model, built once per process."""

    settings: Settings
    sor: SystemOfRecord
    index: VectorIndex
    embedder: Embedder
    bm25: Bm25Encoder
    tracer: Tracer = NO_TRACER
    """Handed to the retriever, the agent and the worker (a no-op one unless tracing is on)."""
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
            tracer=self.tracer,
        )


def build_embedder(settings: Settings, *, bulk: bool = False) -> Embedder:
    """The embedder. Documents always get every core; queries get ``EMBED_THREADS``, except
    that torch has one process-wide pool, so there ``bulk`` (ingest, eval) gives it every core."""
    cores = os.cpu_count() or 1
    threads = cores if bulk and settings.EMBED_BACKEND == "torch" else settings.EMBED_THREADS
    return Embedder(
        settings.EMBEDDING_MODEL,
        backend=settings.EMBED_BACKEND,
        quantize=settings.EMBED_QUANTIZE,
        int8_kernel=settings.EMBED_INT8_KERNEL,
        model_dir=settings.model_path,
        batch_size=settings.EMBED_BATCH,
        threads=threads,
        bulk_threads=cores,
    )


def open_vector_index(settings: Settings) -> VectorIndex:
    """The index client alone: no collection created, nothing checked."""
    key = settings.QDRANT_API_KEY.get_secret_value() if settings.QDRANT_API_KEY else None
    return open_index(settings.QDRANT_URL, path=str(settings.index_path),
                      collection=settings.COLLECTION, api_key=key)


def build_index(
    settings: Settings, *, dense_size: int, model_id: str, reembed: bool = False
) -> VectorIndex:
    """Open the index and check it holds ``model_id``'s vectors (``reembed``: bulk ingest, which
    re-embeds another embedder's points and then records its own)."""
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    index = open_vector_index(settings)
    try:
        index.ensure_collection(dense_size)
        check_embedder(index, model_id, reembed=reembed)
    except BaseException:
        index.close()
        raise
    return index


@asynccontextmanager
async def services(
    settings: Settings, *, embedder: Embedder | None = None, reembed: bool = False,
    tracer: Tracer = NO_TRACER,
) -> AsyncIterator[Services]:
    """Open the SoR and the index for the duration of a command or the app's lifespan."""
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    sor = open_sor(settings.sor_url)
    await sor.open()
    try:
        embedder = embedder or build_embedder(settings)
        index = build_index(settings, dense_size=embedder.dim, model_id=embedder.model_id,
                            reembed=reembed)
        try:
            yield Services(
                settings=settings, sor=sor, index=index, embedder=embedder, bm25=Bm25Encoder(),
                tracer=tracer,
            )
        finally:
            index.close()
    finally:
        await sor.close()


def worker_config(settings: Settings, **overrides: Any) -> WorkerConfig:
    """The change worker's settings as its own typed config."""
    kafka = (KafkaConfig(bootstrap=settings.KAFKA_BOOTSTRAP, topic=settings.KAFKA_TOPIC,
                         group=settings.KAFKA_GROUP) if settings.KAFKA_BOOTSTRAP else None)
    values: dict[str, Any] = {
        "batch_size": settings.WORKER_BATCH_SIZE, "batch_ms": settings.WORKER_BATCH_MS,
        "max_attempts": settings.WORKER_MAX_ATTEMPTS, "queue_size": settings.WORKER_QUEUE_SIZE,
        "embed_batch": settings.EMBED_BATCH, "lease_s": settings.WORKER_LEASE_S,
        "status_file": settings.DATA_DIR / "worker-status.json", "kafka": kafka,
    }
    values.update(overrides)
    return WorkerConfig(**values)


def build_worker(svc: Services, settings: Settings | None = None, **options: Any) -> ChangeWorker:
    """A change worker over these services; ``status_file`` and the worker's keyword options
    (``sources``, ``registry``, ``on_write``, ...) pass through."""
    settings = settings or svc.settings
    status_file = options.pop("status_file", None)
    config = worker_config(settings, **({"status_file": status_file} if status_file else {}))
    options.setdefault("tracer", svc.tracer)
    return ChangeWorker(svc.sor, svc.writer, config, **options)


def build_replay_worker(svc: Services, settings: Settings | None = None) -> ChangeWorker:
    """A short-lived worker for replays (``ingest --changes``, ``dlq replay``)."""
    return replay_worker(svc.sor, svc.writer, worker_config(settings or svc.settings))


async def open_checkpointer(settings: Settings, stack: AsyncExitStack) -> BaseCheckpointSaver:
    """Thread memory: PostgreSQL when the SoR is there, else SQLite beside the embedded data;
    ``stack`` closes it with the agent."""
    url = settings.SOR_URL
    if url.startswith(("postgresql:", "postgres:")):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        pool: AsyncConnectionPool = AsyncConnectionPool(
            url, min_size=1, max_size=8, open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        )
        await pool.open()
        stack.push_async_callback(pool.close)
        saver: BaseCheckpointSaver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
        await saver.setup()  # type: ignore[attr-defined]
        return saver
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    settings.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(settings.checkpoint_path))
    stack.push_async_callback(conn.close)
    # WAL (set by setup) + NORMAL sync: a commit per turn without an fsync on every write.
    await conn.execute("PRAGMA synchronous=NORMAL")
    sqlite_saver = AsyncSqliteSaver(conn)
    await sqlite_saver.setup()
    return sqlite_saver


@asynccontextmanager
async def open_agent(
    svc: Services, settings: Settings | None = None, *, llm: Any = None
) -> AsyncIterator[ShoppingAgent]:
    """The shopping agent on ``svc``: checkpointer, optional Redis stock cache and chat model,
    the live lookup's bounds, and the default tenant's vocabulary read before it answers."""
    from agents import AgentDeps, LiveLookup, ShoppingAgent, StockCache, VocabularyCache, chat_model

    settings = settings or svc.settings
    async with AsyncExitStack() as stack:
        saver = await open_checkpointer(settings, stack)
        cache = None
        if settings.REDIS_URL:
            from redis.asyncio import Redis

            cache = StockCache(Redis.from_url(settings.REDIS_URL),
                               ttl_s=settings.STOCK_CACHE_TTL_S)
            stack.push_async_callback(cache.aclose)
        key = settings.LLM_API_KEY.get_secret_value() if settings.LLM_API_KEY else None
        deps = AgentDeps(
            retriever=svc.retriever,
            live=LiveLookup(svc.sor, timeout_s=settings.SOR_TIMEOUT_S,
                            retries=settings.SOR_RETRIES, cache=cache, tracer=svc.tracer),
            vocabulary=VocabularyCache(svc.sor),
            product_url_template=settings.PRODUCT_URL_TEMPLATE,
            llm=llm or chat_model(settings.LLM_PROVIDER, model=settings.LLM_MODEL,
                                  base_url=settings.LLM_BASE_URL, api_key=key,
                                  timeout_s=settings.LLM_TIMEOUT_S),
            tracer=svc.tracer,
            trace_content=settings.TRACE_CONTENT,
        )
        agent = ShoppingAgent(deps, saver)
        stack.push_async_callback(agent.aclose)
        await agent.warm(settings.TENANT)
        yield agent
