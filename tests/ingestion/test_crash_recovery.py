"""Crash test: ``shopkeeper worker`` is SIGKILLed at random points and the index still ends equal
to the system of record.

Real parts throughout: PostgreSQL on 127.0.0.1:5432 (db ``test``, a fresh schema dropped after),
the trigger-written outbox with ``FOR UPDATE SKIP LOCKED`` claims and LISTEN/NOTIFY, the worker as
a separate process (its own data dir, embedded Edge index, the real MiniLM model), and SIGKILL.

A driver streams mixed changes into PostgreSQL the whole time: price and stock moves, content
edits (re-embedding), SKU deletes and product re-creations, writes by "another program" in plain
SQL, and out-of-order duplicates (already-done outbox rows made pending again, and stale
notifications inserted by hand), and versioned shop writes, some older than what the SoR holds
(refused by its version guard). The worker is killed ``KILLS`` times, some kills while it embeds.
At the end it is stopped with SIGTERM and the index must equal the SoR exactly.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from app.settings import Settings
from app.wiring import build_embedder
from catalog.errors import StaleVersion
from catalog.models import Money, Product, Sku, Stock
from catalog.sor.postgres import PostgresSor
from ingestion.chunker import chunk_sku
from search.index.edge import EdgeIndex

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.model]

PG = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[2]
TENANT = "crash"
PRODUCTS = 60
KILLS = 20
KILLS_WHILE_EMBEDDING = (2, 9, 16)  # these wait for the model, so they land mid-embedding
RATE = 25.0  # changes per second from the driver


def _pg_up() -> None:
    """Start the local cluster if it is down (the test's documented precondition)."""
    try:
        psycopg.connect(PG, connect_timeout=2).close()
        return
    except psycopg.OperationalError:
        pass
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                   check=False, capture_output=True)
    for _ in range(30):
        try:
            psycopg.connect(PG, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(1)
    pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


@pytest.fixture
def schema() -> Iterator[str]:
    _pg_up()
    name = f"crash_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
async def sor(schema: str) -> AsyncIterator[PostgresSor]:
    store = PostgresSor(PG, schema=schema)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def make_product(i: int, *, edition: int = 0, rng: random.Random) -> Product:
    skus = 2 if i % 3 == 0 else 1
    return Product(
        tenant=TENANT, product_id=f"p{i}", brand=rng.choice(["Acme", "Globex", "Initech"]),
        title=f"Crash widget {i} edition {edition}", category="widgets",
        description=f"Widget {i}, edition {edition}: sturdy, useful, and restartable.",
        attributes={"material": rng.choice(["steel", "oak", "glass"])},
        skus=[Sku(sku=f"C{i}-{k}", price=Money(amount=Decimal(f"{rng.randint(5, 500)}.99")),
                  stock=Stock(quantity=rng.randint(0, 9)), variant_attributes={"size": f"{k}"})
              for k in range(skus)],
    )


class Driver:
    """Streams mixed changes into PostgreSQL at ``RATE`` per second until told to stop."""

    def __init__(self, sor: PostgresSor, schema: str, seed: int) -> None:
        self.sor = sor
        self.schema = schema
        self.rng = random.Random(seed)
        self.editions = dict.fromkeys(range(PRODUCTS), 0)
        self.counts: dict[str, int] = {}
        self.version = 0  # the shop's own counter for versioned writes
        self.stop = asyncio.Event()

    def raw(self, statement: str, *args: Any) -> None:
        """Another program writing plain SQL; the triggers capture it all the same."""
        opts = f"-c search_path={self.schema}"
        with psycopg.connect(PG, autocommit=True, options=opts) as conn:
            conn.execute(statement, args)  # type: ignore[arg-type]

    async def live_skus(self) -> list[str]:
        return sorted(await self.sor.sku_versions(TENANT))

    async def step(self) -> None:
        rng = self.rng
        live = await self.live_skus()
        kind = rng.choices(
            ["price", "stock", "content", "delete", "recreate", "plain_sql", "replay_old", "stale",
             "versioned"],
            weights=[30, 30, 15, 5, 6, 6, 4, 4, 6],
        )[0]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "price" and live:
            amount = Decimal(f"{rng.randint(1, 900)}.{rng.randint(0, 99):02d}")
            await self.sor.set_price(TENANT, rng.choice(live), Money(amount=amount))
        elif kind == "stock" and live:
            qty = rng.choice([0, 0, 1, 3, 7])
            avail = "in_stock" if qty else rng.choice(["out_of_stock", "preorder"])
            stock = Stock(quantity=qty, availability=avail)
            await self.sor.set_stock(TENANT, rng.choice(live), stock)
        elif kind in ("content", "recreate"):
            i = rng.randrange(PRODUCTS)
            self.editions[i] += 1
            await self.sor.upsert_products([make_product(i, edition=self.editions[i], rng=rng)])
        elif kind == "delete" and live:
            await self.sor.delete_sku(TENANT, rng.choice(live))
        elif kind == "plain_sql" and live:
            self.raw("UPDATE skus SET stock_qty = stock_qty + 1, availability = 'in_stock' "
                     "WHERE tenant = %s AND sku = %s", TENANT, rng.choice(live))
        elif kind == "replay_old":
            # Out-of-order duplicates: old, already-applied rows become pending again.
            self.raw("UPDATE outbox SET done = false, leased_until = NULL WHERE id IN "
                     "(SELECT id FROM outbox WHERE done ORDER BY random() LIMIT 3)")
        elif kind == "stale" and live:
            # A notification that lies about what happened (a 'delete' for a live SKU):
            # the worker must trust the SoR, not the event.
            self.raw("INSERT INTO outbox (tenant, sku, op) VALUES (%s, %s, 'delete')",
                     TENANT, rng.choice(live))
        elif kind == "versioned" and live:
            # A shop write with a version, then a late, older one that the SoR must refuse.
            self.version += 2
            target = rng.choice(live)
            amount = Money(amount=Decimal(f"{rng.randint(1, 900)}.00"))
            await self.sor.set_price(TENANT, target, amount, version=self.version)
            with pytest.raises(StaleVersion):
                await self.sor.set_price(TENANT, target, Money(amount=Decimal("0.01")),
                                         version=self.version - 1)

    async def run(self) -> None:
        while not self.stop.is_set():
            await self.step()
            await asyncio.sleep(self.rng.expovariate(RATE))


class WorkerProcess:
    """``shopkeeper worker`` as a child process with its own data dir and log file."""

    def __init__(self, data_dir: Path, sor_url: str) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "SHOPKEEPER_SOR_URL": sor_url, "SHOPKEEPER_DATA_DIR": str(data_dir),
            "SHOPKEEPER_TENANT": TENANT, "SHOPKEEPER_WORKER_LEASE_S": "3",
            "SHOPKEEPER_WORKER_BATCH_MS": "10", "SHOPKEEPER_QDRANT_URL": "",
            "SHOPKEEPER_KAFKA_BOOTSTRAP": "", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.log_path = data_dir.parent / "worker.log"

    def start(self) -> None:
        self.runs += 1
        self.log = self.log_path.open("ab")
        self.log.write(f"\n=== run {self.runs} ===\n".encode())
        self.log.flush()
        self.mark = self.log_path.stat().st_size
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "worker"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        with self.log_path.open("rb") as fh:
            fh.seek(self.mark)
            return fh.read().decode(errors="replace")

    async def wait_for(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            assert self.proc is not None and self.proc.poll() is None, self.output()[-3000:]
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker never said {text!r}:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        assert self.proc.returncode == -signal.SIGKILL
        self.log.close()

    def reap(self) -> None:
        """A failed test must not leave its worker running (it would poll a dropped schema)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
            self.log.close()

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self.log.close()
        return code


def leased_rows(schema: str) -> int:
    """Rows the worker has claimed but not acked: work that a kill now interrupts."""
    with psycopg.connect(PG, autocommit=True, options=f"-c search_path={schema}") as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE NOT done AND leased_until > clock_timestamp()"
        ).fetchone()
    return int(row[0]) if row else 0


async def wait_drained(sor: PostgresSor, timeout: float = 150.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await sor.pending_changes() == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"outbox still has {await sor.pending_changes()} pending rows")


async def test_sigkilled_worker_leaves_the_index_equal_to_the_sor(
    sor: PostgresSor, schema: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    await sor.upsert_products([make_product(i, rng=rng) for i in range(PRODUCTS)])
    driver = Driver(sor, schema, seed)
    worker = WorkerProcess(tmp_path / "data", f"{PG}?options=-csearch_path%3D{schema}")
    driving = asyncio.create_task(driver.run())
    kills = 0
    in_flight: list[int] = []  # outbox rows leased by the worker at the moment it was killed
    try:
        while kills < KILLS:
            worker.start()
            await worker.wait_for("worker ready")
            if kills in KILLS_WHILE_EMBEDDING:
                await worker.wait_for("embedding model loaded", timeout=300.0)  # a busy box
                await asyncio.sleep(rng.uniform(0.0, 1.5))
            else:
                await asyncio.sleep(rng.uniform(0.2, 3.0))
            in_flight.append(leased_rows(schema))
            worker.kill()
            kills += 1
        worker.start()
        await worker.wait_for("worker ready")
        await asyncio.sleep(2.0)  # changes keep flowing into the final run too
    except BaseException:
        worker.reap()
        raise
    finally:
        driver.stop.set()
        await driving
    try:
        await wait_drained(sor)
    finally:
        code = worker.terminate()
    assert code == 0, worker.output()[-3000:]
    assert "worker stopped" in worker.output()

    versions = await sor.sku_versions(TENANT)
    live: dict[str, tuple[Product, Sku]] = {}
    async for p in sor.iter_products(TENANT):
        for s in p.skus:
            live[s.sku] = (p, s)
    index = EdgeIndex(tmp_path / "data" / "qdrant")
    try:
        states = {s.sku: s for s in index.iter_states(TENANT)}
        count = index.count(TENANT)
    finally:
        index.close()
    assert kills == KILLS and worker.runs == kills + 1
    assert count == len(states) == len(live), "duplicates or missing points"
    ghosts, missing = set(states) - set(live), set(live) - set(states)
    assert not ghosts and not missing, f"ghosts: {ghosts}, missing: {missing}"
    model_id = build_embedder(Settings(DATA_DIR=tmp_path / "data")).model_id  # the worker's
    for sku, (p, s) in live.items():
        want = chunk_sku(p, s, model_id=model_id, version=versions[sku])
        got = states[sku]
        assert got.content_hash == want.content_hash, sku
        assert got.price == want.payload["price"], sku
        assert got.in_stock == want.payload["in_stock"], sku
        assert got.version == versions[sku], sku
    assert await sor.count_dead_letters() == 0
    # Most kills interrupted claimed-but-unacked work (the rest hit idle or model loading).
    assert sum(1 for n in in_flight if n > 0) >= KILLS // 3, in_flight
    print(f"\ncrash test: seed={seed} kills={kills} in-flight at kill={in_flight} "
          f"changes={driver.counts} live_skus={len(live)} seconds={time.monotonic() - started:.0f}")
    assert driver.counts.get("delete", 0) > 0 and driver.counts.get("content", 0) > 0
    assert time.monotonic() - started < 600, "the crash test should stay well under a few minutes"
