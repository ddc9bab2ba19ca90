"""The change worker's tunables as one typed value, built from settings by the app's wiring."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingestion.sources.kafka import KafkaConfig


@dataclass(frozen=True, kw_only=True)
class WorkerConfig:
    """How the worker batches, retries and reports; defaults are the embedded defaults."""

    batch_size: int = 64
    """A micro-batch closes at this many events..."""

    batch_ms: int = 5
    """...or this long after its first event was queued (price/stock p99 57 ms at 50/s)."""

    max_attempts: int = 5
    """Tries per event before it goes to the dead-letter queue."""

    queue_size: int = 1000
    """Events queued across all partitions before ``submit`` blocks the source."""

    embed_batch: int = 256
    """Texts embedded per model call when changes are coalesced."""

    lease_s: float = 30.0
    """Outbox lease: a crashed worker's claimed rows are redelivered after it."""

    status_file: Path | None = None
    """Where ``shopkeeper status`` (another process) reads the queue; None writes none."""

    kafka: KafkaConfig | None = None
    """The Debezium topic to consume besides the outbox, if any."""
