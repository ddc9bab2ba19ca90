"""The write side: catalog source -> change event -> chunk -> index, idempotent and in order.

Stands on ``catalog`` and ``search``; never imports ``agents`` or ``app``.
"""

from ingestion.chunker import Chunk, chunk_product, chunk_products, chunk_sku, chunk_text
from ingestion.events import ChangeEvent, Outcome, parse_event
from ingestion.pipeline import IngestReport, ingest_products, write_chunks
from ingestion.replay import (
    DlqReplayReport,
    ReplayReport,
    replay_dead_letters,
    replay_file,
    replay_worker,
)
from ingestion.sources.kafka import KafkaConfig
from ingestion.worker import STATUS_FILE, ChangeWorker, WorkerConfig, WriteObserver
from ingestion.writer import IndexWriter, WriteResult

__all__ = [
    "STATUS_FILE",
    "ChangeEvent",
    "ChangeWorker",
    "Chunk",
    "DlqReplayReport",
    "IndexWriter",
    "IngestReport",
    "KafkaConfig",
    "Outcome",
    "ReplayReport",
    "WorkerConfig",
    "WriteObserver",
    "WriteResult",
    "chunk_product",
    "chunk_products",
    "chunk_sku",
    "chunk_text",
    "ingest_products",
    "parse_event",
    "replay_dead_letters",
    "replay_file",
    "replay_worker",
    "write_chunks",
]
