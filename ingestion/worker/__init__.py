"""The change worker: keeps the index equal to the system of record, change by change.

How it works
  * **Notifications** (outbox rows, Debezium events) go into ``N`` bounded partition queues by
    ``crc32(tenant, sku) % N``, so one SKU's changes are applied in order; a full queue blocks the
    source (backpressure, nothing dropped).
  * Each partition drains **micro-batches** that close on ``WORKER_BATCH_SIZE`` or
    ``WORKER_BATCH_MS`` after the first event was queued.
  * A batch **re-reads** each SKU from the SoR (the truth) and writes that: the ``IndexWriter``
    embeds only when the content hash changed (in a thread, so the event loop keeps serving),
    price/stock changes patch the payload, a SKU gone from the SoR loses its point. An event whose
    outbox version is below the indexed version is **stale** and skipped.
  * A **group flush** makes the writes durable; only then do the events' futures resolve, and
    only then do sources ack (outbox row done, Kafka offset committed). Delivery is at least
    once; apply is idempotent (re-read + deterministic point ids), so the effect is exactly once.
  * Errors are retried with exponential backoff and jitter; a poison event, or one that failed
    ``WORKER_MAX_ATTEMPTS`` times, goes to the SoR's DLQ with its reason, and the worker goes on.
  * **Writes** from the shop (webhook, file) are applied to the SoR inside ``submit`` in order,
    so its return means "committed or dead-lettered"; the SoR's triggers then feed the outbox.

Where each job lives
  * ``change_worker``: the ``ChangeWorker`` facade (lifecycle, ``submit``, ``stats``);
    ``startup``: the sources it runs and the model warm-up.
  * ``partitions``: queues and micro-batches; ``batches``: retries, poison isolation and the
    background embedding; ``planning``: what a batch must write, re-read from the SoR.
  * ``index_writes``: the index's three doors; ``durability`` (over ``flusher``): acks wait for
    the flush covering the SKU; ``coalesce``: one model call at a time.
  * ``outcomes``: futures, counts and the DLQ; ``failures``: poison or transient, and backoff.
  * ``shop_writes``: webhook and file writes to the SoR behind its durable version guard.
  * ``status`` and ``metrics``: what ``/ready``, ``shopkeeper status`` and Prometheus see.
"""

from ingestion.worker.change_worker import ChangeWorker
from ingestion.worker.config import WorkerConfig
from ingestion.worker.index_writes import WriteObserver
from ingestion.worker.startup import SourceName
from ingestion.worker.status import STATUS_FILE

__all__ = ["STATUS_FILE", "ChangeWorker", "SourceName", "WorkerConfig", "WriteObserver"]
