"""Embedding backends side by side: query latency, bulk throughput and agreement with torch fp32.

Texts: 1,000 real chunk texts (what the writer embeds, sampled from the demo catalog with a
fixed seed). Queries: the 89 judged dev queries plus the search bench's 15 shopper
queries, each asked twice: 208 timed query embeddings per variant, cache bypassed, with the
serving thread budget (``EMBED_THREADS``). Bulk: ``embed_documents`` on the 1,000 texts with
every core, as ingest and the change worker run it. The variants run interleaved, round after
round, so load from other work hits all of them alike; medians are reported, and the ratios
are against torch fp32 measured in the same run.

    .venv/bin/python -m bench.embed
    .venv/bin/python -m bench.embed --rounds 5 --judgments ../shared/data/judgments_dev.csv

Prints JSON: ``query_p50_ratio`` and ``bulk_throughput_ratio`` (the default variant over torch
fp32) at the top level, then every variant's figures and cosine similarity to torch fp32.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import JUDGMENTS, emit, summary_ms
from bench.search import EXTRA

GOALS = {"query_p50_ratio_max": 0.25, "bulk_throughput_ratio_min": 2.5}


def chunk_texts(n: int, seed: int = 7) -> list[str]:
    """``n`` real chunk texts from the demo catalog, as the writer embeds them."""
    from catalog.importers import DEMO_CATALOG, load_products
    from ingestion import chunk_products

    chunks = list(chunk_products(load_products(DEMO_CATALOG, tenant="bench").products,
                                 model_id="bench"))
    sample = random.Random(seed).sample(chunks, min(n, len(chunks)))
    return [c.text for c in sample]


def eval_queries(judgments: Path, repeat: int) -> list[str]:
    from search.evaluation import load_judgments

    judged = sorted(load_judgments(judgments)) if judgments.exists() else []
    return (judged + EXTRA) * repeat


def build(variant: str, model_dir: Path, threads: int) -> Any:
    """One embedder per variant (``torch-fp32``, ``onnx-fp32``, ``onnx-int8``), loaded now."""
    from search import Embedder

    backend, quantize = variant.split("-")
    embedder = Embedder(backend=backend, quantize=quantize, model_dir=model_dir,  # type: ignore[arg-type]
                        threads=threads, bulk_threads=os.cpu_count() or 1)
    embedder.warm()
    return embedder


def time_queries(embedder: Any, queries: list[str], threads: int) -> list[float]:
    if embedder.backend == "torch":  # one process-wide pool: switch it to serving threads
        embedder.set_threads(threads)
    out = []
    for q in queries:
        t = time.perf_counter()
        embedder.embed_query(q, cache=False)
        out.append(time.perf_counter() - t)
    return out


def time_bulk(embedder: Any, texts: list[str]) -> tuple[float, np.ndarray]:
    if embedder.backend == "torch":  # every core, as ingest runs it (ONNX: its bulk session)
        embedder.set_threads(embedder.bulk_threads)
    t = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    return len(texts) / (time.perf_counter() - t), vectors


def cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Rows are normalised, so the row-wise dot product is the cosine."""
    sims = np.sum(a * b, axis=1)
    return {"min": round(float(sims.min()), 4), "median": round(float(np.median(sims)), 4)}


def main() -> None:
    from app.settings import Settings
    from app.wiring import build_embedder

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--texts", type=int, default=1000)
    ap.add_argument("--judgments", type=Path, default=JUDGMENTS)
    ap.add_argument("--repeat", type=int, default=2, help="times each query is asked per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default="torch-fp32,onnx-fp32,onnx-int8")
    ap.add_argument("--model-dir", type=Path, default=None,
                    help="ONNX export dir (default: a temporary one, exported in this run)")
    args = ap.parse_args()
    settings = Settings()
    threads = settings.EMBED_THREADS
    default = build_embedder(settings).variant
    model_dir = args.model_dir or Path(tempfile.mkdtemp(prefix="bench-embed-"))
    texts = chunk_texts(args.texts)
    queries = eval_queries(args.judgments, args.repeat)
    variants = [v for v in args.variants.split(",") if v]
    if variants[0] != "torch-fp32":
        raise SystemExit("the baseline, torch-fp32, must come first")
    started = time.perf_counter()
    embedders = {v: build(v, model_dir, threads) for v in variants}
    load_s = time.perf_counter() - started
    lengths = embedders[variants[-1]].token_lengths(texts)
    q_times: dict[str, list[float]] = {v: [] for v in variants}
    rates: dict[str, list[float]] = {v: [] for v in variants}
    docs: dict[str, np.ndarray] = {}
    loads = [os.getloadavg()[0]]
    for r in range(args.rounds):
        order = variants[r % len(variants):] + variants[: r % len(variants)]
        for v in order:
            q_times[v] += time_queries(embedders[v], queries, threads)
            rate, docs[v] = time_bulk(embedders[v], texts)
            rates[v].append(rate)
            loads.append(os.getloadavg()[0])
    qvecs = {v: np.array([e.embed_query(q, cache=False) for q in queries[: len(queries) // 2]])
             for v, e in embedders.items()}
    base_q = statistics.median(q_times["torch-fp32"])
    base_rate = statistics.median(rates["torch-fp32"])
    out: dict[str, Any] = {}
    for v, e in embedders.items():
        q = summary_ms(q_times[v])
        out[e.variant] = {
            "model_id": e.model_id,
            "query": q,
            "query_p50_ratio": round(statistics.median(q_times[v]) / base_q, 3),
            "bulk_texts_per_s": round(statistics.median(rates[v]), 1),
            "bulk_rounds_texts_per_s": [round(x, 1) for x in rates[v]],
            "bulk_throughput_ratio": round(statistics.median(rates[v]) / base_rate, 2),
            "cosine_to_torch_fp32_documents": cosines(docs[v], docs["torch-fp32"]),
            "cosine_to_torch_fp32_queries": cosines(qvecs[v], qvecs["torch-fp32"]),
        }
    head = out.get(default) or out[embedders[variants[-1]].variant]
    emit({
        "bench": "embed",
        "default": default,
        "query_p50_ratio": head["query_p50_ratio"],
        "bulk_throughput_ratio": head["bulk_throughput_ratio"],
        "goals": {**GOALS, "met": head["query_p50_ratio"] <= GOALS["query_p50_ratio_max"]
                  and head["bulk_throughput_ratio"] >= GOALS["bulk_throughput_ratio_min"]},
        "texts": {"n": len(texts),
                  "tokens_mean": round(statistics.mean(lengths), 1),
                  "tokens_median": statistics.median(lengths), "tokens_max": max(lengths)},
        "queries_timed_per_variant": len(q_times[variants[0]]),
        "rounds": args.rounds,
        "variants": out,
        "load_and_export_s": round(load_s, 1),
        "machine": {"cpus": os.cpu_count(), "serving_threads": threads,
                    "loadavg_1m_median": round(statistics.median(loads), 2),
                    "loadavg_1m_range": [round(min(loads), 2), round(max(loads), 2)]},
    })


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    main()
