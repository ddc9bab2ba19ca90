"""Shared pieces for the change-stream tests: a real SQLite SoR and Edge index, a fast embedder.

The embedder is a deterministic hash (no model), so worker tests run in milliseconds; the crash
test and the freshness bench use the real model. Wrappers add failure injection and an ordered
call log around the real components, never replacing their behaviour.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry

from app.settings import Settings
from app.wiring import Services, build_worker
from catalog.models import Money, Product, Sku, Stock
from catalog.sor.base import SystemOfRecord
from catalog.sor.sqlite import SqliteSor
from ingestion import ChangeWorker
from ingestion.events import ChangeEvent
from search.index.edge import EdgeIndex
from search.sparse import Bm25Encoder

DIM = 16
TENANT = "t1"


class FakeEmbedder:
    """Deterministic 16-d vectors from a hash; counts texts so tests can see what was embedded."""

    model_id = "fake-hash-embedder"
    dim = DIM

    def __init__(self, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self.texts: list[str] = []
        self.delay = delay
        self.gate = gate
        """When set, each embedding blocks its thread until the test opens the gate."""
        self.entered = threading.Event()
        self.threads: set[str] = set()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        if self.gate is not None and not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the embedding gate")
        if self.delay:
            time.sleep(self.delay)  # CPU-bound stand-in: blocks whatever thread runs it
        self.texts.extend(texts)
        rows = [[b / 255 for b in hashlib.sha256(t.encode()).digest()[:DIM]] for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), DIM)

    def embed_query(self, text: str, cache: bool = True) -> list[float]:
        return [float(x) for x in self.embed_documents([text])[0]]


class LoggedIndex:
    """The real EdgeIndex, with an ordered call log and optional injected failures."""

    def __init__(self, inner: EdgeIndex, log: list[str] | None = None) -> None:
        self.inner = inner
        self.log = log if log is not None else []
        self.fail: dict[str, int] = {}  # method -> failures left (-1 = forever)
        self.poison_skus: set[str] = set()  # writes touching these SKUs always fail

    def _maybe_fail(self, name: str) -> None:
        left = self.fail.get(name, 0)
        if left:
            self.fail[name] = left - 1 if left > 0 else left
            self.log.append(f"{name}:failed")
            raise RuntimeError(f"injected {name} failure")

    def _poisoned(self, skus: Sequence[str]) -> None:
        bad = self.poison_skus.intersection(skus)
        if bad:
            raise RuntimeError(f"injected write failure for {sorted(bad)}")

    def upsert(self, points: Any) -> None:
        self._maybe_fail("upsert")
        self._poisoned([p.payload["sku"] for p in points])
        self.inner.upsert(points)
        self.log.append("upsert:" + ",".join(sorted(p.payload["sku"] for p in points)))

    def set_payload(self, tenant: str, sku: str, payload: dict[str, Any]) -> None:
        self._maybe_fail("set_payload")
        self._poisoned([sku])
        self.inner.set_payload(tenant, sku, payload)
        self.log.append(f"set_payload:{sku}")

    def delete(self, tenant: str, skus: Sequence[str]) -> None:
        self._maybe_fail("delete")
        self.inner.delete(tenant, skus)
        self.log.append("delete:" + ",".join(sorted(skus)))

    def flush(self) -> None:
        self._maybe_fail("flush")
        self.inner.flush()
        self.log.append("flush")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class GatedSor:
    """The real SoR behind a gate: reads wait while the gate is shut, and overlapping reads of
    one SKU are recorded (the worker must never process one SKU in two places at once)."""

    def __init__(self, inner: SystemOfRecord, *, jitter: float = 0.0) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.gate.set()
        self.jitter = jitter
        self.active: set[str] = set()
        self.overlaps: list[str] = []
        self.reads: list[str] = []

    async def get_offers(self, tenant: str, skus: Sequence[str]) -> Any:
        await self.gate.wait()
        return await self.inner.get_offers(tenant, skus)

    async def get_product_by_sku(self, tenant: str, sku: str) -> Any:
        if sku in self.active:
            self.overlaps.append(sku)
        self.active.add(sku)
        self.reads.append(sku)
        try:
            if self.jitter:
                await asyncio.sleep(random.uniform(0, self.jitter))
            return await self.inner.get_product_by_sku(tenant, sku)
        finally:
            self.active.discard(sku)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATA_DIR": tmp_path,
        "TENANT": TENANT,
        "WORKER_BATCH_MS": 5,
        "WORKER_MAX_ATTEMPTS": 3,
        "WORKER_LEASE_S": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


def make_worker(svc: Services, tmp_path: Path, *, sources: Any = (), registry: Any = None,
                partitions: int = 4, **overrides: Any) -> ChangeWorker:
    """A worker over ``svc`` with settings ``overrides``: no status file, no model warm-up."""
    return build_worker(
        svc, settings_for(tmp_path, **overrides), registry=registry or CollectorRegistry(),
        partitions=partitions, sources=sources, write_status=False, warm_model=False,
    )


def raw_sql(svc: Services, statement: str, *args: Any) -> list[Any]:
    """Another program writing to the SoR: the triggers still fill the outbox."""
    conn = sqlite3.connect(svc.sor.path, isolation_level=None)  # type: ignore[attr-defined]
    try:
        return conn.execute(statement, args).fetchall()
    finally:
        conn.close()


@asynccontextmanager
async def stack(
    tmp_path: Path, *, embedder: Any = None, log: list[str] | None = None
) -> AsyncIterator[Services]:
    """SQLite SoR + Edge index in ``tmp_path``, wrapped for logging and failure injection."""
    sor = SqliteSor(f"sqlite:///{tmp_path / 'catalog.db'}")
    await sor.open()
    edge = EdgeIndex(tmp_path / "qdrant")
    edge.ensure_collection(DIM)
    index = LoggedIndex(edge, log)
    try:
        yield Services(
            settings=settings_for(tmp_path),
            sor=sor,
            index=index,  # type: ignore[arg-type]
            embedder=embedder or FakeEmbedder(),  # type: ignore[arg-type]
            bm25=Bm25Encoder(),
        )
    finally:
        edge.close()
        await sor.close()


def product(
    i: int,
    *,
    price: str = "10.00",
    qty: int = 5,
    title: str | None = None,
    skus: int = 1,
    tenant: str = TENANT,
) -> Product:
    return Product(
        tenant=tenant,
        product_id=f"p{i}",
        brand="Acme",
        title=title or f"Widget {i}",
        description=f"A sturdy widget number {i}",
        category="widgets",
        skus=[
            Sku(
                sku=f"S{i}" if skus == 1 else f"S{i}-{k}",
                price=Money(amount=Decimal(price)),
                stock=Stock(quantity=qty),
                variant_attributes={"size": str(k)} if skus > 1 else {},
            )
            for k in range(skus)
        ],
    )


def note(
    sku: str, version: int, op: str = "upsert", *, tenant: str = TENANT, source: str = "outbox"
) -> ChangeEvent:
    """A notification event, as the outbox or Debezium would produce."""
    return ChangeEvent(
        event_id=f"{source}:{sku}:{version}:{op}",
        tenant=tenant,
        entity="sku",
        op=op,  # type: ignore[arg-type]
        sku=sku,
        version=version,
        committed_at=datetime.now(UTC),
        source=source,  # type: ignore[arg-type]
    )


async def assert_index_equals_sor(
    sor: SystemOfRecord,
    index: Any,
    tenant: str = TENANT,
    *,
    model_id: str = FakeEmbedder.model_id,
) -> None:
    """The invariant of the whole change stream: one point per live SKU, holding the SoR's state."""
    from ingestion.chunker import chunk_sku

    states = {s.sku: s for s in index.iter_states(tenant)}
    live: dict[str, Any] = {}
    async for p in sor.iter_products(tenant):
        for s in p.skus:
            live[s.sku] = (p, s)
    assert set(states) == set(live), set(states) ^ set(live)
    assert index.count(tenant) == len(live)
    versions = await sor.sku_versions(tenant)
    for sku, (p, s) in live.items():
        chunk = chunk_sku(p, s, model_id=model_id, version=versions[sku])
        st = states[sku]
        assert st.content_hash == chunk.content_hash, sku
        assert st.price == chunk.payload["price"], sku
        assert st.in_stock == chunk.payload["in_stock"], sku
        assert st.version == versions[sku], sku


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")
