"""Retrieval evaluation on human judgments: nDCG@k, recall@k, MRR and judged@k per mode.

The catalog is indexed once into a cache keyed by its content hash; later runs reuse it and the
index writer re-embeds only chunks whose text changed.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.retrieval import Mode, Retriever
from ingestion.index.base import SearchFilter

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


def build_eval_index(
    settings: object,
    catalog_dir: Path,
    cache_root: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Retriever, Callable[[], None]]:
    """Index ``catalog_dir`` into ``cache_root/<content hash>`` (reused when present)."""
    from app.settings import Settings
    from app.wiring import build_embedder
    from catalog.importers import load_icecat
    from ingestion.chunker import chunk_products
    from ingestion.index.edge import EdgeIndex
    from ingestion.pipeline import write_chunks
    from ingestion.sparse import Bm25Encoder
    from ingestion.writer import IndexWriter

    assert isinstance(settings, Settings)
    files = sorted(catalog_dir.glob("products_part*.json.gz"))
    if not files:
        raise ValueError(f"{catalog_dir}: no products_part*.json.gz files")
    embedder = build_embedder(settings, bulk=True)
    cache = cache_root / catalog_hash(files)
    cache.mkdir(parents=True, exist_ok=True)
    index = EdgeIndex(str(cache / "qdrant"))
    index.ensure_collection(embedder.dim)
    bm25 = Bm25Encoder()
    products = load_icecat(catalog_dir, tenant=EVAL_TENANT).products
    chunks = list(chunk_products(products, model_id=embedder.model_id))
    states = {s.sku: s for s in index.iter_states(EVAL_TENANT)}
    writer = IndexWriter(index, embedder, bm25)
    report = (lambda n: progress(n, len(chunks))) if progress else None
    embedded = write_chunks(writer, chunks, states, batch_size=512, progress=report).embedded
    index.flush()
    if embedded:
        index.optimize()
    retriever = Retriever(
        index,
        embedder,
        bm25,
        weights=settings.FUSION_WEIGHTS,
        prefetch_limit=settings.PREFETCH_LIMIT,
    )
    return retriever, index.close
