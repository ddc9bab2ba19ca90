"""What the worker starts beside its partitions: the configured sources and the model warm-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any, Literal

from catalog import ServiceUnavailable
from catalog.sor import SystemOfRecord
from catalog.tracing import NO_TRACER, Tracer
from ingestion.sources.base import ChangeSink
from ingestion.sources.kafka import run_kafka
from ingestion.sources.outbox import OutboxSource
from ingestion.worker.config import WorkerConfig
from ingestion.writer import IndexWriter

log = logging.getLogger("shopkeeper.worker")

SourceName = Literal["outbox", "kafka"]


async def run_source(
    name: SourceName, sor: SystemOfRecord, sink: ChangeSink, config: WorkerConfig,
    stopping: asyncio.Event, tracer: Tracer = NO_TRACER,
) -> None:
    """Feed ``sink`` from one source until ``stopping`` is set (sources see only the protocol)."""
    if name == "outbox":
        await OutboxSource(
            sor, sink, claim_limit=max(1, config.batch_size) * 2, lease_seconds=config.lease_s,
            tracer=tracer,
        ).run(stopping)
        return
    if config.kafka is None:
        raise ServiceUnavailable("no Kafka configured", setting="SHOPKEEPER_KAFKA_BOOTSTRAP")
    await run_kafka(config.kafka, sink, stopping)


async def warm_model(writer: IndexWriter) -> None:
    """Load the embedding model in the background; payload-only changes flow meanwhile.

    A daemon thread, not ``to_thread``: a SIGTERM during the load must not wait for it.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[BaseException | None] = loop.create_future()

    def load() -> None:
        error: BaseException | None = None
        try:
            writer.embedder.warm()  # load (and on first use export) the model now
        except Exception as exc:  # reported again, with its setting, on the first embed
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop may be gone at shutdown
            loop.call_soon_threadsafe(_settle, done, error)

    threading.Thread(target=load, name="warm-embedding-model", daemon=True).start()
    error = await done
    if error is None:
        log.info("embedding model loaded")
    else:
        log.warning("embedding model not loaded: %s", error)


def _settle(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)
