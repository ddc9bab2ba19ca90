"""The change worker: keeps the index equal to the system of record, change by change."""

from ingestion.worker.config import WorkerConfig
from ingestion.worker.core import STATUS_FILE, ChangeWorker, SourceName, WriteObserver

__all__ = ["STATUS_FILE", "ChangeWorker", "SourceName", "WorkerConfig", "WriteObserver"]
