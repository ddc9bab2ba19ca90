"""``shopkeeper ingest``: load a catalog file (or replay a change file) into the SoR and index."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import err, friendly_errors, progress_bar
from app.cli.pages import load_into
from app.cli.pages import summary as page_summary
from app.settings import Settings
from app.wiring import build_embedder, build_replay_worker, services
from catalog import Product
from ingestion import IngestReport, ReplayReport, ingest_products, replay_file
from ingestion.pages import PagesReport


@friendly_errors
def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="Catalog file or Icecat dir; default: demo")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (shop) id")] = None,
    prune: Annotated[bool, typer.Option(help="Delete SKUs the file no longer lists")] = False,
    pages: Annotated[bool, typer.Option(
        help="Also load the store pages of SHOPKEEPER_PAGES_DIR (default: demo pages)")] = True,
    changes: Annotated[
        Path | None, typer.Option(help="Replay a JSONL file of change events")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Load a catalog into the SoR and the index. Idempotent: unchanged SKUs are not re-embedded."""
    settings = Settings()
    if changes is not None:
        replay = asyncio.run(_replay(settings, changes, tenant or settings.TENANT))
        if json_out:
            print(json.dumps(replay.summary()))
        else:
            err.print(replay.summary())
        return
    from catalog.importers import DEMO_CATALOG, load_products

    source = path or DEMO_CATALOG
    result = load_products(source, tenant=tenant or settings.TENANT)
    for e in result.errors:
        err.print(f"[yellow]skipped[/yellow] {e.message}")
    report, page_report = asyncio.run(
        _ingest(settings, result.products, tenant or settings.TENANT, prune, pages))
    report.errors = list(result.errors)
    summary = {
        "tenant": report.tenant,
        "source": str(source),
        "products": report.products,
        "skus": report.skus,
        "embedded": report.embedded,
        "payload_only": report.payload_only,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "embedder": report.embedder,
        "rejected": len(report.errors),
        "seconds": round(report.seconds, 2),
        "skus_per_s": round(report.skus_per_second, 1),
    }
    if page_report is not None:
        summary["pages"] = page_summary(page_report, settings.pages_dir)
    if report.other_embedder_points:
        err.print(f"[yellow]{report.other_embedder_points} points of other tenants still hold "
                  f"another embedder's vectors: ingest those tenants too before serving[/yellow]")
    if json_out:
        print(json.dumps(summary))
    else:
        err.print(summary)


async def _ingest(
    settings: Settings, products: list[Product], tenant: str, prune: bool, pages: bool
) -> tuple[IngestReport, PagesReport | None]:
    embedder = build_embedder(settings, bulk=True)
    async with services(settings, embedder=embedder, reembed=True) as svc:
        with progress_bar() as bar:
            task = bar.add_task("indexing SKUs", total=sum(len(p.skus) for p in products))
            report = await ingest_products(
                products,
                tenant=tenant,
                sor=svc.sor,
                writer=svc.writer,
                prune=prune,
                batch_size=settings.EMBED_BATCH,
                progress=lambda n: bar.advance(task, n),
            )
        page_report = await load_into(svc, settings.pages_dir, tenant) if pages else None
        return report, page_report


async def _replay(settings: Settings, path: Path, tenant: str) -> ReplayReport:
    """Writes go to the SoR in order; a short-lived worker brings the index in step."""
    async with services(settings) as svc:
        return await replay_file(build_replay_worker(svc, settings), path, tenant=tenant)


def register(cli: typer.Typer) -> None:
    cli.command("ingest")(ingest)

