"""``shopkeeper dlq list | replay``: the dead-letter queue (changes that could not be applied).

``list`` needs only the SoR; ``replay`` runs a short-lived worker, so it needs the embedded index
to itself (stop ``serve`` first).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli.common import err, friendly_errors, out
from app.settings import Settings
from app.wiring import build_replay_worker, services
from catalog.sor import open_sor
from ingestion import replay_dead_letters

dlq = typer.Typer(help="The dead-letter queue: changes that could not be applied.",
                  no_args_is_help=True)


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
    out.print(table)
    if not rows:
        err.print("the dead-letter queue is empty")


async def _dlq_list(settings: Settings, limit: int) -> list[dict[str, Any]]:
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
    async with services(settings) as svc:
        report = await replay_dead_letters(build_replay_worker(svc, settings), ids,
                                           tenant=settings.TENANT)
    return asdict(report)


def register(cli: typer.Typer) -> None:
    cli.add_typer(dlq, name="dlq")
