"""Retrieval evaluation on human judgments: nDCG@k, recall@k, MRR and judged@k per mode.

Pure metrics over a ``Retriever``; building the cached evaluation index is the CLI's job
(``app/cli/evaluate.py``), since it needs the write side too.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from search.index.base import SearchFilter
from search.retriever import Mode, Retriever

Judgments = dict[str, dict[str, int]]
EVAL_TENANT = "eval"


def load_judgments(path: Path) -> Judgments:
    """``query -> {docid: grade}`` from a CSV with ``query,docid,final_rating`` columns."""
    out: Judgments = defaultdict(dict)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"query", "docid", "final_rating"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            out[row["query"].strip()][row["docid"].strip()] = int(float(row["final_rating"]))
    return dict(out)


def catalog_hash(files: Sequence[Path]) -> str:
    """Content hash of the catalog files: the eval cache key."""
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def dcg(gains: Sequence[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


@dataclass(frozen=True)
class QueryScore:
    ndcg: float
    recall: float
    rr: float
    judged: float


def score_ranking(ranking: Sequence[str], grades: dict[str, int], k: int) -> QueryScore:
    """Metrics of one ranked list against one query's grades (relevant = grade >= 2)."""
    top = list(ranking[:k])
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    ndcg = dcg([grades.get(d, 0) for d in top]) / ideal if ideal else 0.0
    relevant = {d for d, g in grades.items() if g >= 2}
    recall = len(relevant.intersection(top)) / len(relevant) if relevant else 0.0
    rr = next((1.0 / (i + 1) for i, d in enumerate(top) if d in relevant), 0.0)
    judged = sum(1 for d in top if d in grades) / k
    return QueryScore(ndcg, recall, rr, judged)


def evaluate(
    search: Callable[[str, Mode, int], list[str]], judgments: Judgments, *, mode: Mode, k: int
) -> dict[str, object]:
    """Average the metrics over queries that have at least one product graded 2 or more."""
    scores = [
        score_ranking(search(query, mode, k), grades, k)
        for query, grades in sorted(judgments.items())
        if any(g >= 2 for g in grades.values())
    ]
    n = len(scores) or 1
    return {
        "mode": mode,
        "queries": len(scores),
        f"ndcg@{k}": round(sum(s.ndcg for s in scores) / n, 4),
        f"recall@{k}": round(sum(s.recall for s in scores) / n, 4),
        "mrr": round(sum(s.rr for s in scores) / n, 4),
        f"judged@{k}": round(sum(s.judged for s in scores) / n, 4),
    }


def searcher(
    retriever: Retriever, tenant: str = EVAL_TENANT
) -> Callable[[str, Mode, int], list[str]]:
    flt = SearchFilter(tenant=tenant)

    def run(query: str, mode: Mode, k: int) -> list[str]:
        return [h.sku for h in retriever.search(query, flt, mode=mode, limit=k)]

    return run

