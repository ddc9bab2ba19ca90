"""Freshness: commit in the SoR -> visible in the index, on the embedded stack, printed as JSON.

Stack: SQLite SoR + embedded Qdrant Edge + the change worker in this process (as under
``shopkeeper serve``), the real MiniLM model. A driver with its own SoR connection (like another
program) commits changes at a steady rate: 70% price/stock, 30% content edits (re-embedding).
A change is visible once the index write that shows it has returned (the worker reports each
write; Edge is in-process and synchronous, so later searches see it): the SKU's indexed state
carries the change's version (the outbox id) or newer, or, for a price change or a stock change
that flips the in-stock flag, the payload a filtered search reads shows the new value.

Reports p50/p99 per op class at the steady rate (default 100/s), then steps the rate up and
reports the highest rate the worker sustains without growing lag. The embedder is the settings'
(``SHOPKEEPER_EMBED_BACKEND=torch`` for the torch baseline); each backend has its own data dir,
bulk-loaded by the first run and reused later.

    .venv/bin/python -m bench.freshness            # demo catalog, 60 s at 100/s, then the steps
    SHOPKEEPER_EMBED_BACKEND=torch .venv/bin/python -m bench.freshness --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections import namedtuple
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import emit, pct, summary_ms

TENANT = "bench"


@dataclass
class Probe:
    """One committed change waiting to become visible."""

    op: str
    sku: str
    version: int
    committed: float
    visible: float | None = None
    follow_up: bool = False  # the same SKU changed < 2 s before: waits for that change's ack
    price: float | None = None  # a price change is searchable once the payload shows it
    in_stock: int | None = None  # a stock change that flips the in-stock prefilter

    def seen(self, st: Any) -> bool:
        if st is None:
            return False
        if st.version >= self.version:
            return True
        return (self.price is not None and st.price == self.price) or (
            self.in_stock is not None and st.in_stock == self.in_stock)


@dataclass
class Run:
    rate: float
    seconds: float
    probes: list[Probe] = field(default_factory=list)
    commits: int = 0
    stalls: list[float] = field(default_factory=list)
    verified: bool = False
    drained_after: float = 0.0  # seconds after the last commit until everything was visible
    started: float = 0.0
    ended: float = 0.0

    def latencies(
        self, ops: tuple[str, ...] | None = None, *, follow_up: bool | None = None
    ) -> list[float]:
        return [p.visible - p.committed for p in self.probes
                if p.visible is not None and (ops is None or p.op in ops)
                and (follow_up is None or p.follow_up == follow_up)]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def build_stack(data_dir: Path, products: int, batch_ms: int) -> Any:
    """Bulk-load ``products`` demo products, then return services, settings and the catalog."""
    from app.settings import Settings
    from app.wiring import services
    from catalog.importers import DEMO_CATALOG, load_products
    from ingestion.pipeline import ingest_products

    settings = Settings(DATA_DIR=data_dir, TENANT=TENANT, WORKER_BATCH_MS=batch_ms)
    catalog = load_products(DEMO_CATALOG, tenant=TENANT).products[:products]
    ctx = services(settings, reembed=True)
    svc = await ctx.__aenter__()
    t = time.perf_counter()
    report = await ingest_products(catalog, tenant=TENANT, sor=svc.sor, writer=svc.writer)
    _log(f"bulk load: {report.skus} SKUs in {time.perf_counter() - t:.1f}s")
    return ctx, svc, settings, catalog


class Driver:
    """Commits changes through its own SoR connection, as a shop's system would."""

    def __init__(self, sor: Any, catalog: list[Any], seed: int, content: float = 0.3,
                 index: Any = None, tracker: Tracker | None = None) -> None:
        self.sor = sor
        self.index = index
        self.tracker = tracker or Tracker()
        self.set_content(content)
        self.rng = random.Random(seed)
        self.products = {p.product_id: p for p in catalog}
        self.skus = [(p.product_id, s.sku) for p in catalog for s in p.skus]
        self.edition = 0
        self.last_change: dict[str, float] = {}

    def set_content(self, content: float) -> None:
        self.price_below = (1 - content) / 2
        self.stock_below = 1 - content

    async def change(self, run: Run) -> None:
        from catalog.models import Money, Stock

        rng = self.rng
        roll = rng.random()
        extra: dict[str, Any] = {}
        if roll < self.price_below:
            _, sku = rng.choice(self.skus)
            amount = Decimal(f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}")
            before = (await self.sor.get_offers(TENANT, [sku])).get(sku)
            await self.sor.set_price(TENANT, sku, Money(amount=amount))
            touched, op = [sku], "price"
            if before is not None and before.price is not None and before.price.amount != amount:
                extra = {"price": float(amount)}
        elif roll < self.stock_below:
            _, sku = rng.choice(self.skus)
            qty = rng.choice([0, 1, 2, 5, 10, 20, 50])
            before = (await self.sor.get_offers(TENANT, [sku])).get(sku)
            await self.sor.set_stock(TENANT, sku, Stock(
                quantity=qty, availability="in_stock" if qty else "out_of_stock"))
            touched, op = [sku], "stock"
            if before is not None and before.in_stock != bool(qty):
                extra = {"in_stock": 1 if qty else 0}
        else:
            # A content edit of one SKU (its own title): one change, one re-embedding. Editing
            # product-level text would re-embed every variant and count as that many changes.
            pid, sku = rng.choice(self.skus)
            self.edition += 1
            product = self.products[pid]
            skus = [s.model_copy(update={"title": f"{product.sku_title(s)} (rev {self.edition})"})
                    if s.sku == sku else s for s in product.skus]
            product = product.model_copy(update={"skus": skus})
            self.products[pid] = product
            await self.sor.upsert_products([product])
            touched, op = [sku], "content"
        committed = time.perf_counter()
        run.commits += 1
        offers = await self.sor.get_offers(TENANT, touched)
        states = self.index.states(TENANT, touched)
        for sku in touched:
            offer = offers.get(sku)
            if offer is not None:
                recent = self.last_change.get(sku, -1e9) > committed - 2.0
                probe = Probe(op, sku, offer.version, committed, follow_up=recent, **extra)
                run.probes.append(probe)
                self.tracker.register(probe, states.get(sku))
            self.last_change[sku] = committed


class Tracker:
    """Stamps each change visible when the worker reports the index write that shows it.

    Embedded Qdrant Edge is in-process and synchronous: once a write call returns, every later
    search sees it, so the worker's ``on_write`` callback is the moment of visibility (polling the
    index instead costs so much CPU that it slows the worker it measures). Each change is also
    checked against the index once when registered, and every change against the index at the end.
    """

    def __init__(self) -> None:
        self.waiting: dict[str, list[Probe]] = {}

    def register(self, probe: Probe, state: Any) -> None:
        if probe.seen(state):
            probe.visible = time.perf_counter()
        else:
            self.waiting.setdefault(probe.sku, []).append(probe)

    def on_write(self, tenant: str, sku: str, fields: dict[str, Any] | None) -> None:
        probes = self.waiting.get(sku)
        if not probes or fields is None:
            return
        now = time.perf_counter()
        state = Written(fields.get("version", -1), fields.get("price"), fields.get("in_stock"))
        keep = [p for p in probes if not p.seen(state)]
        for p in probes:
            if p.visible is None and p not in keep:
                p.visible = now
        self.waiting[sku] = keep


Written = namedtuple("Written", "version price in_stock")


async def stalls(run: Run, stop: asyncio.Event) -> None:
    """How late a 5 ms timer fires: the event loop's own stalls (flushes, GIL, CPU)."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.005)
        run.stalls.append(time.perf_counter() - t - 0.005)


async def drive(driver: Driver, index: Any, rate: float, seconds: float) -> Run:
    """Commit at ``rate``/s for ``seconds`` on a fixed schedule (no coordinated omission)."""
    run = Run(rate, seconds)
    stop = asyncio.Event()
    ticker = asyncio.create_task(stalls(run, stop))
    run.started = start = time.perf_counter()
    n = int(rate * seconds)
    for k in range(n):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await driver.change(run)
    run.ended = time.perf_counter()
    deadline = run.ended + 120
    while any(p.visible is None for p in run.probes) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    run.drained_after = time.perf_counter() - run.ended
    stop.set()
    await ticker
    # Every change stamped visible must really be in the index now (versions only grow).
    latest: dict[str, int] = {}
    for p in run.probes:
        latest[p.sku] = max(latest.get(p.sku, 0), p.version)
    states = index.states(TENANT, list(latest))
    run.verified = all(s in states and states[s].version >= v for s, v in latest.items())
    return run


async def ladder(
    driver: Driver, worker: Any, index: Any, rates: str, seconds: float
) -> tuple[list[dict[str, Any]], float]:
    """Step the rate up until one is not sustained; returns every step and the best rate."""
    steps: list[dict[str, Any]] = []
    best = 0.0
    for rate in [float(r) for r in rates.split(",") if r]:
        await worker.drain(120)
        _log(f"step: {rate}/s for {seconds}s")
        result = describe(await drive(driver, index, rate, seconds))
        steps.append(result)
        if not result["sustained"]:
            break
        best = rate
    return steps, best


def describe(run: Run) -> dict[str, Any]:
    """Latency summaries per op class, achieved rate, and whether lag grew during the run."""
    out: dict[str, Any] = {
        "target_rate": run.rate,
        "achieved_rate": round(run.commits / max(run.ended - run.started, 1e-9), 1),
        "commits": run.commits,
        "changes": len(run.probes),
        "missing": sum(1 for p in run.probes if p.visible is None),
        "index_verified": run.verified,
        "backlog_cleared_after_s": round(run.drained_after, 2),
        "loop_stall_ms": {"p50": round(pct(run.stalls, 50) * 1000, 1),
                          "p99": round(pct(run.stalls, 99) * 1000, 1),
                          "max": round(max(run.stalls, default=0.0) * 1000, 1)},
    }
    for name, ops in (("overall", None), ("price_stock", ("price", "stock")),
                      ("price", ("price",)), ("stock", ("stock",)), ("content", ("content",))):
        lat = run.latencies(ops)
        if lat:
            out[name] = summary_ms(lat)
    isolated = run.latencies(("price", "stock"), follow_up=False)
    if isolated:
        out["price_stock_first_change_of_sku"] = summary_ms(isolated)
    out["follow_ups"] = sum(1 for p in run.probes if p.follow_up)
    ordered = sorted((p for p in run.probes if p.visible is not None), key=lambda p: p.committed)
    quarter = max(1, len(ordered) // 4)
    first = [p.visible - p.committed for p in ordered[:quarter] if p.visible]
    last = [p.visible - p.committed for p in ordered[-quarter:] if p.visible]
    if first and last:
        f, la = statistics.median(first), statistics.median(last)
        out["median_first_quarter_ms"] = round(f * 1000, 1)
        out["median_last_quarter_ms"] = round(la * 1000, 1)
        out["lag_growing"] = la > f + 0.25
    # Sustained: the driver kept the rate, lag did not grow, and nothing was left behind.
    out["sustained"] = (
        not out.get("lag_growing", True) and out["missing"] == 0 and run.verified
        and out["achieved_rate"] >= 0.95 * run.rate and run.drained_after < 1.0
    )
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry

    from app.settings import Settings
    from app.wiring import build_embedder, build_worker
    from catalog.sor.sqlite import SqliteSor

    variant = build_embedder(Settings()).variant
    data_dir = Path(args.data_dir or f".shopkeeper/bench-freshness-{variant}")
    ctx, svc, settings, catalog = await build_stack(data_dir, args.products, args.batch_ms)
    registry = CollectorRegistry()
    tracker = Tracker()
    worker = build_worker(svc, settings, registry=registry, sources=("outbox",), write_status=False,
                          partitions=args.partitions, flush_interval=args.flush_ms / 1000,
                          on_write=tracker.on_write)
    await worker.start()
    driver_sor = SqliteSor(settings.sor_url)
    await driver_sor.open()
    try:
        if not await worker.drain(300):
            raise RuntimeError("the worker did not catch up with the bulk load")
        driver = Driver(driver_sor, catalog, args.seed, args.content, svc.index, tracker)
        await drive(driver, svc.index, 10, 3)  # warm-up: first embeds, first flushes
        _log(f"steady: {args.rate}/s for {args.seconds}s")
        before = worker.stats()
        steady = describe(await drive(driver, svc.index, args.rate, args.seconds))
        after = worker.stats()
        steady["embedding"] = {
            "texts": after["embedded"] - before["embedded"],
            "calls": after["embed_calls"] - before["embed_calls"],
            "busy_share": round((after["embed_seconds"] - before["embed_seconds"])
                                / max(args.seconds, 1e-9), 2),
        }
        steps, best = await ladder(driver, worker, svc.index, args.steps, args.step_seconds)
        driver.set_content(0.0)
        payload_steps, best_payload = await ladder(
            driver, worker, svc.index, args.payload_steps, args.step_seconds)
        stats = worker.stats()
    finally:
        await worker.stop()
        await driver_sor.close()
        await ctx.__aexit__(None, None, None)
    return {
        "bench": "freshness",
        "stack": "embedded: SQLite SoR + Qdrant Edge + in-process change worker + MiniLM (CPU)",
        "embedder": svc.embedder.model_id,
        "visible_means": "the worker's index write that shows the change returned (version >= "
                         "the change's outbox id, or for price / in-stock flips the new value); "
                         "all changes verified against the index at the end of each run",
        "catalog": {"products": len(catalog), "skus": sum(len(p.skus) for p in catalog)},
        "mix": {"price": (1 - args.content) / 2, "stock": (1 - args.content) / 2,
                "content": args.content},
        "settings": {
            "WORKER_BATCH_SIZE": settings.WORKER_BATCH_SIZE,
            "WORKER_BATCH_MS": settings.WORKER_BATCH_MS,
            "partitions": worker.n_partitions,
            "flush_interval_ms": args.flush_ms,
            "EMBED_THREADS": settings.EMBED_THREADS,
            "sqlite_poll_ms": 15,
        },
        "steady": steady,
        "steps": steps,
        "max_sustained_rate": best,
        "payload_only_steps": payload_steps,
        "max_sustained_rate_price_stock_only": best_payload,
        "goals": {
            f"p99_overall_ms_at_{args.rate:g}": 500, "p99_price_stock_ms": 100,
            "met_overall": steady.get("overall", {}).get("p99_ms", 1e9) <= 500,
            "met_price_stock": steady.get("price_stock", {}).get("p99_ms", 1e9) < 100,
        },
        "worker": {k: stats[k] for k in ("applied", "skipped_unchanged", "skipped_stale",
                                         "dead_lettered", "retries", "flushes", "flush_seconds",
                                         "flush_longest_ms", "embed_calls", "embedded",
                                         "embed_seconds")},
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--products", type=int, default=5000,
                    help="demo products to load (the whole demo catalog by default)")
    ap.add_argument("--rate", type=float, default=100.0, help="steady changes per second")
    ap.add_argument("--seconds", type=float, default=60.0, help="steady run length")
    ap.add_argument("--steps", default="50,100,150,200,300,400",
                    help="rates to step through with the same mix")
    ap.add_argument("--payload-steps", default="100,200,400,800",
                    help="rates to step through with price/stock changes only")
    ap.add_argument("--step-seconds", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--content", type=float, default=0.3, help="share of content edits")
    ap.add_argument("--batch-ms", type=int, default=20, help="WORKER_BATCH_MS")
    ap.add_argument("--flush-ms", type=float, default=500.0, help="min ms between index flushes")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--data-dir", default="",
                    help="reused between runs (default .shopkeeper/bench-freshness-<variant>)")
    return ap.parse_args(argv)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    emit(asyncio.run(main(parse())))
