"""Reciprocal rank fusion: the one place ranked lists from different vector spaces are merged.

Both index backends return each leg (dense, BM25) as its own ranking and fuse here, so a hybrid
query means the same on the embedded engine and on a server. The formula is Qdrant's own
weighted RRF, ``1 / ((rank + 1) / weight + k - 1)`` with 0-based ranks, so scores match what
the engine's native fusion gave before it moved here.
"""

from __future__ import annotations

from collections.abc import Sequence

# Measured on the dev judgments: k=10 beat Qdrant's default k=2 (nDCG@10 0.811 vs 0.780 with
# weights 1:2) and k=60 (0.788).
RRF_K = 10


def rank_score(rank: int, weight: float = 1.0, k: int = RRF_K) -> float:
    """The contribution of a 0-based ``rank`` in a leg of ``weight``; weight 0 contributes none."""
    if weight <= 0:
        return 0.0
    return 1.0 / ((rank + 1) / weight + k - 1)


def rrf(
    rankings: Sequence[Sequence[str]],
    weights: Sequence[float] | None = None,
    *,
    k: int = RRF_K,
) -> list[tuple[str, float]]:
    """Fuse ranked id lists into ``(id, score)`` best first; ties keep first-seen order."""
    if weights is not None and len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else float(weights[i])
        for rank, key in enumerate(dict.fromkeys(ranking)):
            scores[key] = scores.get(key, 0.0) + rank_score(rank, weight, k)
    return sorted(scores.items(), key=lambda kv: -kv[1])

