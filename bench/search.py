"""Search latency p50/p99 on the full 19,406-product index, with and without filters.

The query embedding is included (its cache is bypassed). The baseline in the same run is the
query embedding alone, so the ratio shows what the index itself adds. Goal: p50 <= 20 ms.
Run: .venv/bin/python -m bench.search   (first run builds the cached index, ~6 min)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from app.cli.evaluate import build_eval_index
from app.settings import Settings
from bench.common import ICECAT, JUDGMENTS, emit, summary_ms
from search.evaluation import EVAL_TENANT, load_judgments
from search.index.base import SearchFilter

EXTRA = [
    "wireless mouse",
    "hp 301 black ink",
    "usb c cable 2m",
    "27 inch monitor",
    "noise cancelling headphones",
    "bluetooth keyboard",
    "laser printer toner",
    "32gb micro sd",
    "gaming headset",
    "laptop bag 15.6",
    "logitech webcam",
    "external ssd 1tb",
    "hdmi to vga adapter",
    "ergonomic mouse",
    "canon ink cartridge",
]
FILTERS = [
    {"max_price": 30.0},
    {"max_price": 100.0, "in_stock": True},
    {"brands": ("HP",)},
    {"colours": ("black",), "max_price": 50.0},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", type=Path, default=ICECAT)
    parser.add_argument("--judgments", type=Path, default=JUDGMENTS)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    retriever, close = build_eval_index(settings, args.catalog, settings.DATA_DIR / "eval-cache")
    queries = sorted(load_judgments(args.judgments)) + EXTRA
    embedder = retriever.embedder
    embedder.set_threads(settings.EMBED_THREADS)  # measure as the server runs: serving threads
    embedder.embed_query("warm up", cache=False)
    retriever.embedder.embed_query = (  # type: ignore[method-assign]
        lambda text, cache=True, _e=embedder.embed_query: _e(text, cache=False)
    )
    embed_only, plain, filtered, dense_only = [], [], [], []
    try:
        for _ in range(args.repeat):
            for i, q in enumerate(queries):
                t0 = time.perf_counter()
                embedder._encode_query(q)
                embed_only.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                retriever.search(q, SearchFilter(tenant=EVAL_TENANT), limit=10)
                plain.append(time.perf_counter() - t0)
                flt = SearchFilter(tenant=EVAL_TENANT, **FILTERS[i % len(FILTERS)])  # type: ignore[arg-type]
                t0 = time.perf_counter()
                retriever.search(q, flt, limit=10)
                filtered.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                retriever.search(q, SearchFilter(tenant=EVAL_TENANT), mode="dense", limit=10)
                dense_only.append(time.perf_counter() - t0)
        points = retriever.index.count(EVAL_TENANT)
    finally:
        close()
    base, hyb = summary_ms(embed_only), summary_ms(plain)
    emit(
        {
            "bench": "search",
            "points": points,
            "baseline_query_embedding_only": base,
            "hybrid_no_filter": hyb,
            "hybrid_with_filters": summary_ms(filtered),
            "dense_only_no_filter": summary_ms(dense_only),
            "hybrid_p50_vs_embedding_p50": round(hyb["p50_ms"] / base["p50_ms"], 2),
            "goal_p50_ms": 20,
        }
    )


if __name__ == "__main__":
    main()
