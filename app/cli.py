"""The ``shopkeeper`` console script: ingest, search, eval; serve/worker/ask come from commands/."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.settings import Settings
from catalog.errors import ShopkeeperError

cli = typer.Typer(
    help="Shopkeeper: answers shoppers' questions about a catalog, correctly and live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Our errors become one line on stderr and exit code 1 or 2, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ShopkeeperError as exc:
            err.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(2 if exc.status_code < 500 else 1) from None
        except ValueError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


@cli.command()
@friendly_errors
def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="Catalog file or Icecat dir; default: demo")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (shop) id")] = None,
    prune: Annotated[bool, typer.Option(help="Delete SKUs the file no longer lists")] = False,
    changes: Annotated[
        Path | None, typer.Option(help="Replay a JSONL file of change events")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Load a catalog into the SoR and the index. Idempotent: unchanged SKUs are not re-embedded."""
    settings = Settings()
    if changes is not None:
        from ingestion.replay import replay_changes_cli

        replay_changes_cli(settings, changes, tenant=tenant or settings.TENANT, json_out=json_out)
        return
    from catalog.importers import DEMO_CATALOG, load_products

    source = path or DEMO_CATALOG
    result = load_products(source, tenant=tenant or settings.TENANT)
    for e in result.errors:
        err.print(f"[yellow]skipped[/yellow] {e.message}")
    report = asyncio.run(_ingest(settings, result.products, tenant or settings.TENANT, prune))
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
        "rejected": len(report.errors),
        "seconds": round(report.seconds, 2),
        "skus_per_s": round(report.skus_per_second, 1),
    }
    if json_out:
        print(json.dumps(summary))
    else:
        err.print(summary)


async def _ingest(settings: Settings, products: list[Any], tenant: str, prune: bool) -> Any:
    from app.wiring import build_embedder, services
    from ingestion.pipeline import ingest_products

    async with services(settings, embedder=build_embedder(settings, bulk=True)) as svc:
        with progress_bar() as bar:
            task = bar.add_task("indexing SKUs", total=sum(len(p.skus) for p in products))
            return await ingest_products(
                products,
                tenant=tenant,
                sor=svc.sor,
                writer=svc.writer,
                prune=prune,
                batch_size=settings.EMBED_BATCH,
                progress=lambda n: bar.advance(task, n),
            )


@cli.command()
@friendly_errors
def search(
    query: Annotated[str, typer.Argument(help="What the shopper typed")],
    brand: Annotated[list[str] | None, typer.Option(help="Only this brand (repeatable)")] = None,
    colour: Annotated[list[str] | None, typer.Option(help="Only this colour (repeatable)")] = None,
    max_price: Annotated[float | None, typer.Option(help="Live price at most this")] = None,
    min_price: Annotated[float | None, typer.Option(help="Live price at least this")] = None,
    in_stock: Annotated[bool, typer.Option("--in-stock", help="Only SKUs in stock now")] = False,
    mode: Annotated[str, typer.Option(help="hybrid | dense | bm25")] = "hybrid",
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    tenant: Annotated[str | None, typer.Option()] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Hybrid search; price and stock filters are re-checked against the live SoR."""
    if mode not in ("hybrid", "dense", "bm25"):
        raise ValueError("--mode must be hybrid, dense or bm25")
    if not query.strip():
        from catalog.errors import EmptyQuery

        raise EmptyQuery("the query is empty; type what you are looking for")
    settings = Settings()
    rows = asyncio.run(
        _search(
            settings,
            query,
            tenant or settings.TENANT,
            brand or [],
            colour or [],
            min_price,
            max_price,
            in_stock,
            mode,
            limit,
        )
    )
    if json_out:
        print(json.dumps(rows, indent=None))
        return
    table = Table("sku", "title", "brand", "live price", "stock", "score")
    for r in rows:
        table.add_row(
            r["sku"],
            r["title"][:70],
            r["brand"],
            r["price_display"],
            r["availability"],
            f"{r['score']:.3f}",
        )
    Console().print(table)


async def _search(
    settings: Settings,
    query: str,
    tenant: str,
    brands: list[str],
    colours: list[str],
    min_price: float | None,
    max_price: float | None,
    in_stock: bool,
    mode: str,
    limit: int,
) -> list[dict[str, Any]]:
    from app.wiring import services
    from catalog.errors import UnknownTenant
    from ingestion.index.base import SearchFilter

    async with services(settings) as svc:
        if svc.index.count(tenant) == 0:
            raise UnknownTenant(
                f"tenant {tenant!r} has no indexed catalog; run `shopkeeper ingest`"
            )
        flt = SearchFilter(
            tenant=tenant,
            brands=brands,
            colours=colours,
            min_price=min_price,
            max_price=max_price,
            in_stock=True if in_stock else None,
        )
        # Over-fetch: the index price is a prefilter; the live SoR price decides.
        hits = svc.retriever.search(query, flt, mode=mode, limit=limit * 3)  # type: ignore[arg-type]
        offers = await svc.sor.get_offers(tenant, [h.sku for h in hits])
        rows = []
        for h in hits:
            offer = offers.get(h.sku)
            if offer is None or offer.price is None:
                continue  # deleted in the SoR since it was indexed: never show a ghost
            price = float(offer.price.amount)
            if (
                (max_price is not None and price > max_price)
                or (min_price is not None and price < min_price)
                or (in_stock and not offer.in_stock)
            ):
                continue
            rows.append(
                {
                    "sku": h.sku,
                    "title": h.payload.get("title", ""),
                    "brand": h.payload.get("brand_display", ""),
                    "score": round(h.score, 4),
                    "price": str(offer.price.amount),
                    "currency": offer.price.currency,
                    "price_display": str(offer.price),
                    "availability": offer.stock.availability if offer.stock else "unknown",
                    "quantity": offer.stock.quantity if offer.stock else None,
                    "stock_synthetic": bool(offer.stock and offer.stock.synthetic),
                    "as_of": offer.as_of.isoformat(),
                }
            )
        return rows[:limit]


@cli.command("eval")
@friendly_errors
def eval_cmd(
    catalog: Annotated[Path, typer.Option(help="Dir with products_part*.json.gz (Icecat)")],
    judgments: Annotated[Path, typer.Option(help="CSV with query,docid,final_rating")],
    mode: Annotated[str, typer.Option(help="hybrid | dense | bm25 | all")] = "all",
    k: Annotated[int, typer.Option(min=1, max=100)] = 10,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Index cache (default DATA_DIR/eval-cache)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Index a catalog (cached by content hash) and score retrieval against human judgments."""
    from agents.evaluation import build_eval_index, evaluate, load_judgments, searcher

    modes = ["hybrid", "dense", "bm25"] if mode == "all" else [mode]
    if any(m not in ("hybrid", "dense", "bm25") for m in modes):
        raise ValueError("--mode must be hybrid, dense, bm25 or all")
    if not judgments.is_file():
        raise ValueError(f"judgments file not found: {judgments}")
    settings = Settings()
    grades = load_judgments(judgments)
    with progress_bar() as bar:
        task = bar.add_task("indexing catalog", total=None)
        retriever, closer = build_eval_index(
            settings,
            catalog,
            cache_dir or settings.DATA_DIR / "eval-cache",
            progress=lambda n, total: bar.update(task, advance=n, total=total),
        )
    try:
        for m in modes:
            row = evaluate(searcher(retriever), grades, mode=m, k=k)  # type: ignore[arg-type]
            print(json.dumps(row) if json_out else row)
    finally:
        closer()


def main() -> None:
    from app.commands import register

    register(cli)
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
