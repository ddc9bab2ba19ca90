"""Ingest throughput vs raw embedder throughput on the same texts, and unchanged re-ingest speed.

Goals: ingest >= 85% of raw embedding throughput; re-ingest of an unchanged catalog >= 5,000 SKUs/s.
Run: .venv/bin/python -m bench.ingest [--skus 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from app.settings import Settings
from app.wiring import build_embedder, services
from bench.common import emit
from catalog.importers import DEMO_CATALOG, load_products
from ingestion.chunker import chunk_products
from ingestion.pipeline import ingest_products


async def run(n_skus: int, rounds: int) -> dict[str, object]:
    products = load_products(DEMO_CATALOG, tenant="bench").products
    picked, count = [], 0
    for p in products:
        if count >= n_skus:
            break
        picked.append(p)
        count += len(p.skus)
    embedder = build_embedder(Settings(), bulk=True)
    texts = [c.text for c in chunk_products(picked, model_id=embedder.model_id)]
    embedder.embed_documents(texts[:64])  # warm the model: both sides measure steady state
    raw, ingest, reingest = [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        embedder.embed_documents(texts)
        raw.append(len(texts) / (time.perf_counter() - t0))
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(DATA_DIR=Path(tmp))
            async with services(settings, embedder=embedder) as svc:
                first = await ingest_products(
                    picked, tenant="bench", sor=svc.sor, writer=svc.writer
                )
                again = await ingest_products(
                    picked, tenant="bench", sor=svc.sor, writer=svc.writer
                )
                assert again.embedded == 0, "re-ingest of an unchanged catalog must embed nothing"
        ingest.append(first.skus_per_second)
        reingest.append(again.skus_per_second)
    raw_med, ing_med = statistics.median(raw), statistics.median(ingest)
    return {
        "bench": "ingest",
        "skus": len(texts),
        "rounds": rounds,
        "raw_embed_texts_per_s": round(raw_med, 1),
        "ingest_skus_per_s": round(ing_med, 1),
        "ingest_vs_raw_ratio": round(ing_med / raw_med, 3),
        "goal_ratio": 0.85,
        "reingest_unchanged_skus_per_s": round(statistics.median(reingest), 1),
        "goal_reingest_skus_per_s": 5000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    emit(asyncio.run(run(args.skus, args.rounds)))


if __name__ == "__main__":
    main()
