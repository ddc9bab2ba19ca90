"""Per-client token buckets, held by one app instance (``app.state``), never in a module global.

Each client key gets ``per_minute`` tokens of burst that refill continuously; a request that
finds the bucket empty is refused with the seconds until one token is back (``Retry-After``).
Buckets live in memory, so each API replica limits on its own; put a shared limiter (or the
proxy's) in front when replicas must share one budget.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from catalog import RateLimited


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token bucket per key; the least recently seen keys are forgotten past ``max_keys``."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(max(per_minute, 0))
        self.rate = self.capacity / 60.0
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def hit(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens from ``key``'s bucket or raise ``RateLimited`` with Retry-After."""
        if not self.enabled:
            return
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        self._buckets[key] = bucket  # re-insert: most recently seen last
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return
        retry_after = max(1, math.ceil((cost - bucket.tokens) / self.rate))
        raise RateLimited(
            f"too many requests: the limit is {int(self.capacity)} per minute per client; "
            f"retry in {retry_after} s",
            retry_after=retry_after,
        )
