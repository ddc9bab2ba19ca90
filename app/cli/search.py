"""``shopkeeper search``: hybrid search with live price and stock, through the agent's lookup."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli.common import friendly_errors, out
from app.settings import Settings
from app.wiring import services
from catalog import EmptyQuery, SorUnavailable, UnknownTenant
from search import SearchFilter


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
        raise EmptyQuery("the query is empty; type what you are looking for")
    settings = Settings()
    flt = SearchFilter(
        tenant=tenant or settings.TENANT,
        brands=brand or [],
        colours=colour or [],
        min_price=min_price,
        max_price=max_price,
        in_stock=True if in_stock else None,
    )
    rows = asyncio.run(_search(settings, query, flt, mode, limit))
    if json_out:
        print(json.dumps(rows, indent=None))
        return
    table = Table("sku", "title", "brand", "live price", "stock", "score")
    for r in rows:
        table.add_row(r["sku"], r["title"][:70], r["brand"], r["price_display"],
                      r["availability"], f"{r['score']:.3f}")
    out.print(table)


async def _search(
    settings: Settings, query: str, flt: SearchFilter, mode: str, limit: int
) -> list[dict[str, Any]]:
    from agents import LiveLookup

    async with services(settings) as svc:
        if svc.index.count(flt.tenant) == 0:
            raise UnknownTenant(
                f"tenant {flt.tenant!r} has no indexed catalog; run `shopkeeper ingest`"
            )
        # Over-fetch: the index price is a prefilter; the live SoR price decides.
        hits = svc.retriever.search(query, flt, mode=mode, limit=limit * 3)  # type: ignore[arg-type]
        live = LiveLookup(svc.sor, timeout_s=settings.SOR_TIMEOUT_S, retries=settings.SOR_RETRIES)
        result = await live.fetch(flt.tenant, [h.sku for h in hits])
        if result.status == "unavailable":
            raise SorUnavailable(result.error, setting="SHOPKEEPER_SOR_URL")
        rows = []
        for h in hits:
            offer = result.offers.get(h.sku)
            if offer is None or offer["price"] is None:
                continue  # deleted in the SoR since it was indexed: never show a ghost
            price = float(offer["price"])
            if (
                (flt.max_price is not None and price > flt.max_price)
                or (flt.min_price is not None and price < flt.min_price)
                or (flt.in_stock and not offer["in_stock"])
            ):
                continue
            rows.append({
                "sku": h.sku,
                "title": h.payload.get("title", ""),
                "brand": h.payload.get("brand_display", ""),
                "score": round(h.score, 4),
                "price": offer["price"],
                "currency": offer["currency"],
                "price_display": offer["display"],
                "availability": offer["availability"],
                "quantity": offer["quantity"],
                "stock_synthetic": offer["synthetic"],
                "as_of": offer["as_of"],
            })
        return rows[:limit]


def register(cli: typer.Typer) -> None:
    cli.command("search")(search)
