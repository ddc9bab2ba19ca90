"""Helpers shared by the benchmarks: percentiles, JSON output, the cached full-catalog index."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ICECAT = SHARED / "icecat"
JUDGMENTS = SHARED / "judgments_dev.csv"


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; medians and tails, not means, on noisy boxes."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p90_ms": round(pct(ms, 90), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


def emit(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
