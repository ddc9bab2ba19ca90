"""Time EdgeIndex on N random points: upsert, filtered hybrid query before/after optimize, reopen.

Usage: .venv/bin/python scripts/edge_index_latency.py [N]   (default 20000, 384-d, 4 tenants)
Random vectors and BM25 over random words: it measures the engine and our wrapper, not relevance.
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from search import IndexPoint, SearchFilter, SparseVector, point_id
from search.index.edge import EdgeIndex
from search.sparse import Bm25Encoder

DIM = 384
WORDS = [
    "ink",
    "toner",
    "cartridge",
    "black",
    "cyan",
    "magenta",
    "yellow",
    "laser",
    "printer",
    "paper",
    "mouse",
    "keyboard",
    "cable",
    "usb",
    "wireless",
    "hp",
    "canon",
    "brother",
    "epson",
    "logitech",
    "original",
    "compatible",
    "pack",
    "high",
    "yield",
    "page",
    "photo",
    "glossy",
    "matte",
    "a4",
    "letter",
    "office",
    "home",
    "deskjet",
    "pixma",
    "officejet",
    "color",
    "mono",
]
BRANDS = ["hp", "canon", "brother", "epson", "logitech"]
CATS = ["ink", "toner", "paper", "mouse", "cable"]
COLOURS = ["black", "cyan", "magenta", "yellow", "grey"]
TENANTS = ["t0", "t1", "t2", "t3"]

rng = random.Random(7)
enc = Bm25Encoder()


def vec() -> list[float]:
    return [rng.gauss(0, 1) for _ in range(DIM)]


def make(i: int) -> IndexPoint:
    tenant, sku = TENANTS[i % len(TENANTS)], f"S{i:06d}"
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 100)))
    payload = {
        "tenant": tenant,
        "sku": sku,
        "product_id": f"P{i // 3}",
        "brand": rng.choice(BRANDS),
        "brand_display": "X",
        "colour": [rng.choice(COLOURS)],
        "category": rng.choice(CATS),
        "model_number": f"m{i}",
        "ean": [f"{i:013d}"],
        "facets": [f"pack={rng.randint(1, 4)}"],
        "price": round(rng.uniform(1, 200), 2),
        "in_stock": rng.randint(0, 1),
        "content_hash": f"h{i}",
        "version": 1,
        "text": text,
        "title": text[:40],
    }
    return IndexPoint(point_id(tenant, sku), vec(), enc.embed_documents([text])[0], payload)


def timed(label: str, calls: list[Callable[[], object]]) -> None:
    for call in calls[:20]:
        call()
    lat = []
    for call in calls:
        t0 = time.perf_counter()
        call()
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    p50, p95 = statistics.median(lat), lat[int(0.95 * len(lat))]
    print(f"  {label:<32} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")


def bench(
    idx: EdgeIndex, title: str, queries: list[tuple[SearchFilter, list[float], SparseVector]]
) -> None:
    print(title)
    q = idx.query
    timed("hybrid, category+price+stock", [partial(q, f, dense=d, sparse=s) for f, d, s in queries])
    timed(
        "hybrid, tenant only",
        [partial(q, SearchFilter(f.tenant), dense=d, sparse=s) for f, d, s in queries],
    )
    timed("dense only, filtered", [partial(q, f, dense=d) for f, d, _ in queries])
    timed("sparse only, filtered", [partial(q, f, sparse=s) for f, _, s in queries])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    t = time.perf_counter()
    points = [make(i) for i in range(n)]
    print(f"generated {n} points in {time.perf_counter() - t:.1f}s")
    queries = [
        (
            SearchFilter(
                rng.choice(TENANTS),
                categories=(rng.choice(CATS),),
                max_price=150.0,
                in_stock=True,
            ),
            vec(),
            enc.embed_query(" ".join(rng.choice(WORDS) for _ in range(4))),
        )
        for _ in range(200)
    ]
    root = Path(tempfile.mkdtemp(prefix="edge-latency-"))
    try:
        idx = EdgeIndex(root / "shard")
        idx.ensure_collection(DIM)
        t = time.perf_counter()
        for i in range(0, n, 1000):
            idx.upsert(points[i : i + 1000])
        idx.flush()
        print(f"upsert + flush: {time.perf_counter() - t:.1f}s")
        bench(idx, "before optimize (no HNSW)", queries)
        t = time.perf_counter()
        idx.optimize()
        info = idx.shard.info()
        print(f"optimize: {time.perf_counter() - t:.1f}s, {info.segments_count} segments")
        bench(idx, "after optimize (HNSW)", queries)
        idx.close()
        t = time.perf_counter()
        idx = EdgeIndex(root / "shard")
        print(f"reopen: {time.perf_counter() - t:.2f}s")
        bench(idx, "reopened", queries)
        idx.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
