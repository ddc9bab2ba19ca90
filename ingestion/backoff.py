"""Exponential backoff with jitter, shared by the worker and sources so retries never stampede."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int, *, base: float = 0.05, cap: float = 5.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): ``base * 2**(attempt-1)``, capped,
    with "equal jitter" (half fixed, half random) so retries spread out but still grow."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
