"""``shopkeeper pages load|search``: the shop's store pages (shipping, returns, ...) from
``SHOPKEEPER_PAGES_DIR`` (default: the bundled demo pages), see docs/store-pages.md."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import err, friendly_errors
from app.settings import Settings
from app.wiring import Services, build_embedder, services
from catalog.pages import load_pages
from ingestion.pages import PagesReport, ingest_pages

pages_cli = typer.Typer(help="Store pages: shipping, returns, warranty, payment, contact.",
                        no_args_is_help=True)


async def load_into(svc: Services, folder: Path, tenant: str) -> PagesReport:
    """Parse the folder and bring the SoR and the index in step (shared with ``ingest``)."""
    sections, errors = load_pages(folder)
    for e in errors:
        err.print(f"[yellow]skipped[/yellow] {e.message}")
    return await ingest_pages(sections, tenant=tenant, sor=svc.sor, writer=svc.writer,
                              errors=errors)


def summary(report: PagesReport, folder: Path) -> dict[str, Any]:
    return {"tenant": report.tenant, "folder": str(folder), "sections": report.sections,
            "written": report.written, "deleted": report.deleted, "embedded": report.embedded,
            "unchanged": report.unchanged, "rejected": len(report.errors),
            "seconds": round(report.seconds, 2)}


@pages_cli.command("load")
@friendly_errors
def load(
    folder: Annotated[Path | None, typer.Argument(
        help="Folder of <page_id>.md files; default: SHOPKEEPER_PAGES_DIR")] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (shop) id")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Load the pages: changed sections are re-embedded, removed ones deleted, the rest kept."""
    settings = Settings()
    where = folder or settings.pages_dir

    async def run() -> PagesReport:
        async with services(settings, embedder=build_embedder(settings, bulk=True)) as svc:
            return await load_into(svc, where, tenant or settings.TENANT)

    out = summary(asyncio.run(run()), where)
    if json_out:
        print(json.dumps(out))
    else:
        err.print(out)


@pages_cli.command("search")
@friendly_errors
def search(
    question: Annotated[str, typer.Argument(help="A question about the shop")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (shop) id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10)] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The sections that best answer ``question``, with their citation and relevance."""
    settings = Settings()

    async def run() -> list[dict[str, Any]]:
        async with services(settings) as svc:
            hits = svc.retriever.pages(question, tenant or settings.TENANT, limit)
        return [{"page_id": h.payload.get("page_id"), "section": h.payload.get("section"),
                 "anchor": h.payload.get("anchor"), "url": h.payload.get("url"),
                 "relevance": round(h.relevance, 3), "text": h.payload.get("body")}
                for h in hits]

    rows = asyncio.run(run())
    if json_out:
        print(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        err.print("no store pages for this tenant: run `shopkeeper pages load`")
    for r in rows:
        print(f"{r['relevance']:.3f}  {r['page_id']}#{r['anchor']}  {r['section']}")
        print(f"    {r['text']}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(pages_cli, name="pages")
