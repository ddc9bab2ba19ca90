"""``shopkeeper worker | status | dlq list | dlq replay``: run and inspect the change stream.

``status`` and ``dlq list`` need only the SoR, so they work while ``serve`` or ``worker`` owns
the embedded index; ``worker`` and ``dlq replay`` open the index and so need it to themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.cli import err, friendly_errors
from app.settings import Settings

STATUS_FRESH_S = 5.0
dlq = typer.Typer(help="The dead-letter queue: changes that could not be applied.",
                  no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    cli.command("worker")(worker)
    cli.command("status")(status)
    cli.add_typer(dlq, name="dlq")


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
    from app.wiring import services
    from ingestion.worker import ChangeWorker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with services(settings) as svc:
        change_worker = ChangeWorker(svc, settings)
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
    """Lag, outbox backlog, DLQ size, and the running worker's queue (from its status file)."""
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
    Console().print(table)


async def _status(settings: Settings) -> dict[str, Any]:
    from catalog.sor.base import open_sor

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
    return data


def _worker_status(settings: Settings, now: datetime) -> dict[str, Any]:
    """The running worker's own figures, if its status file is fresh."""
    from ingestion.worker import STATUS_FILE

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


@dlq.command("list")
@friendly_errors
def dlq_list(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Dead letters, oldest first, with their reason and attempt count."""
    rows = asyncio.run(_dlq_list(Settings(), limit))
    if json_out:
        print(json.dumps(rows))
        return
    table = Table("id", "source", "event", "attempts", "reason", "created")
    for r in rows:
        table.add_row(str(r["id"]), r["source"], r["summary"], str(r["attempts"]),
                      r["reason"][:80], r["created_at"][:19])
    Console().print(table)
    if not rows:
        err.print("the dead-letter queue is empty")


async def _dlq_list(settings: Settings, limit: int) -> list[dict[str, Any]]:
    from catalog.sor.base import open_sor

    sor = open_sor(settings.sor_url)
    await sor.open()
    try:
        letters = await sor.list_dead_letters(limit)
    finally:
        await sor.close()
    return [
        {"id": d.id, "source": d.source, "reason": d.reason, "attempts": d.attempts,
         "created_at": d.created_at.isoformat(), "summary": _summary(d.event), "event": d.event}
        for d in letters
    ]


def _summary(event: dict[str, Any]) -> str:
    if "event_id" in event:
        key = event.get("sku") or event.get("product_id") or ""
        return f"{event.get('event_id')} {event.get('entity')}.{event.get('op')} {key}"
    if "line" in event:
        return f"file line {event['line']}"
    if "offset" in event:
        return f"kafka {event.get('topic')}[{event.get('partition')}]@{event['offset']}"
    return json.dumps(event)[:60]


@dlq.command("replay")
@friendly_errors
def dlq_replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Dead-letter ids; default: all")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Re-submit dead letters through the worker; each is removed once re-submitted."""
    report = asyncio.run(_dlq_replay(Settings(), ids or None))
    if json_out:
        print(json.dumps(report))
    else:
        err.print(report)


async def _dlq_replay(settings: Settings, ids: list[int] | None) -> dict[str, Any]:
    from dataclasses import asdict

    from app.wiring import services
    from ingestion.replay import replay_dead_letters

    async with services(settings) as svc:
        report = await replay_dead_letters(svc, settings, ids)
    return asdict(report)
