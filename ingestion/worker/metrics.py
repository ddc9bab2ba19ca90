"""The change worker's Prometheus series, on the registry the caller passes (never a global)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Commit -> searchable: the goal is p99 <= 0.5 s, and < 0.1 s for price/stock.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class WorkerMetrics:
    """Freshness histogram, outcome counters and live gauges for one worker."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        queue_depth: Callable[[], float],
        lag_seconds: Callable[[], float],
    ) -> None:
        self.visible = Histogram(
            "shopkeeper_change_visible_seconds",
            "Commit in the source to searchable in the index, per operation",
            ["op"], buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.applied = Counter(
            "shopkeeper_changes_applied", "Changes written to the index", ["op"], registry=registry
        )
        self.skipped_stale = Counter(
            "shopkeeper_changes_skipped_stale",
            "Changes older than the indexed version, ignored", registry=registry,
        )
        self.skipped_unchanged = Counter(
            "shopkeeper_changes_skipped_unchanged",
            "Changes after which the index already matched the SoR", registry=registry,
        )
        self.dead_lettered = Counter(
            "shopkeeper_changes_dead_lettered", "Changes sent to the DLQ", ["source"],
            registry=registry,
        )
        self.retries = Counter(
            "shopkeeper_change_retries", "Batch or event retries after an error", registry=registry
        )
        self.queue_depth = Gauge(
            "shopkeeper_worker_queue_depth", "Changes queued or in flight in the worker",
            registry=registry,
        )
        self.queue_depth.set_function(queue_depth)
        self.lag = Gauge(
            "shopkeeper_worker_lag_seconds",
            "Age of the oldest change not yet applied (0 when caught up)", registry=registry,
        )
        self.lag.set_function(lag_seconds)
