"""``shopkeeper worker`` and ``shopkeeper status``: run the change stream and see how it is doing.

``status`` needs only the SoR (and the worker's status file), so it works while ``serve`` or
``worker`` owns the embedded index; ``worker`` opens the index and needs it to itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli.common import err, friendly_errors, out
from app.settings import Settings
from app.telemetry import Telemetry, build_telemetry
from app.wiring import build_embedder, build_worker, open_vector_index, services
from catalog import ServiceUnavailable
from catalog.sor import open_sor
from ingestion import STATUS_FILE
from search.index.edge import recorded_embedder

STATUS_FRESH_S = 5.0


@friendly_errors
def worker(
    stop_timeout: Annotated[float, typer.Option(help="Seconds to finish in-flight changes")] = 30.0,
) -> None:
    """Run the change worker (outbox, plus Kafka if SHOPKEEPER_KAFKA_BOOTSTRAP) until SIGTERM."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    asyncio.run(_run_worker(Settings(), stop_timeout))


async def _run_worker(settings: Settings, stop_timeout: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    telemetry = build_telemetry(settings)
    try:
        await _serve_changes(settings, stop, stop_timeout, telemetry)
    finally:
        telemetry.shutdown()


async def _serve_changes(settings: Settings, stop: asyncio.Event, stop_timeout: float,
                         telemetry: Telemetry) -> None:
    async with services(settings, tracer=telemetry.tracer) as svc:
        change_worker = build_worker(svc, settings)
        await change_worker.start()
        err.print(f"worker ready: sources={','.join(change_worker.source_names)} "
                  f"partitions={change_worker.n_partitions}")
        try:
            await stop.wait()
            err.print("stopping: finishing in-flight changes")
        finally:
            await change_worker.stop(stop_timeout)
        err.print("worker stopped")


@friendly_errors
def status(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Lag, outbox backlog, DLQ size, the running worker's queue (from its status file) and
    the embedder in use beside the one the index records."""
    settings = Settings()
    data = asyncio.run(_status(settings))
    if json_out:
        print(json.dumps(data))
        return
    table = Table("what", "value")
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        table.add_row(key, "-" if value is None else str(value))
    out.print(table)


async def _status(settings: Settings) -> dict[str, Any]:
    sor = open_sor(settings.sor_url)
    await sor.open()
    try:
        pending = await sor.pending_changes()
        oldest = await sor.oldest_pending_at()
        dlq_size = await sor.count_dead_letters()
    finally:
        await sor.close()
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "outbox_pending": pending,
        "lag_seconds": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        "dlq_size": dlq_size,
        "worker": _worker_status(settings, now),
    }
    worker_info = data["worker"]
    data["queue_depth"] = worker_info.get("queue_depth") if worker_info.get("running") else None
    data["embedder"] = _embedder_status(settings)
    return data


def _embedder_status(settings: Settings) -> dict[str, Any]:
    """The embedder these settings run, and the one the index says its vectors come from
    (serving refuses to start when they differ). The embedded index's record is a plain file,
    read without opening the index another process owns."""
    in_use = build_embedder(settings).model_id
    if settings.embedded:
        recorded = recorded_embedder(settings.index_path)
    else:
        try:
            index = open_vector_index(settings)
            try:
                recorded = index.embedder_id()
            finally:
                index.close()
        except ServiceUnavailable:
            recorded = None
    return {"in_use": in_use, "index": recorded,
            "matches": None if recorded is None else recorded == in_use}


def _worker_status(settings: Settings, now: datetime) -> dict[str, Any]:
    """The running worker's own figures, if its status file is fresh."""
    path = settings.DATA_DIR / STATUS_FILE
    try:
        info = json.loads(path.read_text())
        updated = datetime.fromisoformat(info["updated_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return {"running": False}
    age = (now - updated).total_seconds()
    fresh = age <= STATUS_FRESH_S and bool(info.get("running"))
    keys = ("queue_depth", "queue_capacity", "applied", "skipped_stale", "skipped_unchanged",
            "dead_lettered", "retries", "pid", "sources")
    return {"running": fresh, "status_age_s": round(age, 1), **{k: info.get(k) for k in keys}}


def register(cli: typer.Typer) -> None:
    cli.command("worker")(worker)
    cli.command("status")(status)
