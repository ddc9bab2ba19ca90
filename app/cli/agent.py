"""``shopkeeper ask`` and ``shopkeeper chat``: the shopping agent in a terminal.

On a fresh data dir the bundled demo catalog is ingested first, so the first question works.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from app.cli.common import err, friendly_errors, out
from app.settings import Settings
from app.wiring import Services, open_agent, services
from ingestion import ingest_products

if TYPE_CHECKING:  # the agent stack loads when a question is asked, not for every command
    from agents import AgentRequest, ProductCard, ShoppingAgent


async def ensure_catalog(svc: Services, settings: Settings, tenant: str) -> None:
    """First run: load the bundled demo catalog into an empty default tenant."""
    if tenant != settings.TENANT or svc.index.count(tenant) > 0:
        return
    from catalog.importers import DEMO_CATALOG, load_products

    products = load_products(DEMO_CATALOG, tenant=tenant).products
    err.print(f"[dim]first run: loading the demo catalog ({len(products):,} products) into "
              f"{settings.DATA_DIR}; this embeds every SKU once (a few minutes on a laptop)[/dim]")
    await ingest_products(products, tenant=tenant, sor=svc.sor, writer=svc.writer,
                          batch_size=settings.EMBED_BATCH)


def cards_table(cards: list[ProductCard]) -> Table:
    synthetic = any(c.stock_synthetic for c in cards)
    table = Table("sku", "product", "live price", "stock", "why",
                  caption="* synthetic demo stock" if synthetic else None)
    for c in cards:
        stock = c.availability.replace("_", " ") + (f" ({c.quantity})" if c.quantity else "")
        table.add_row(c.sku, c.title[:60], c.price_display, stock + (" *" if c.stock_synthetic
                                                                      else ""), c.why[:60])
    return table


async def _turn(agent: ShoppingAgent, req: AgentRequest, *, as_json: bool) -> str:
    """Ask once and print the answer and its cards; returns the thread id.

    The text is complete only after verification, so there is nothing to gain from printing
    token events one by one here (the HTTP stream does that for the widget).
    """
    answer = await agent.answer(req)
    if as_json:
        print(answer.model_dump_json())
    else:
        out.print(answer.text, markup=False, highlight=False)
        if answer.products:
            out.print(cards_table(answer.products))
    return answer.thread_id


async def _session(settings: Settings, questions: Any, *, tenant: str, thread: str | None,
                   user: str, mode: str, as_json: bool) -> None:
    """Open the services and the agent once, then answer each question in one thread."""
    from agents import AgentRequest

    async with services(settings) as svc:
        await ensure_catalog(svc, settings, tenant)
        async with open_agent(svc, settings) as agent:
            async for question in questions:
                if question == "/new":
                    thread = None
                    continue
                req = AgentRequest(message=question, thread_id=thread, user_id=user,
                                   tenant=tenant, mode=mode)  # type: ignore[arg-type]
                thread = await _turn(agent, req, as_json=as_json)
                if not as_json:
                    err.print(f"[dim]thread {thread}[/dim]")


async def _one(question: str) -> Any:
    yield question


async def _prompt() -> Any:
    """Lines typed by the user until EOF or /quit (read in a thread: input() blocks)."""
    while True:
        try:
            line = (await asyncio.to_thread(input, "you> ")).strip()
        except EOFError:
            return
        if line in ("/quit", "/exit"):
            return
        if line:
            yield line


@friendly_errors
def ask(
    question: Annotated[str, typer.Argument(help="What the shopper asks")],
    thread: Annotated[str | None, typer.Option(help="Continue this conversation")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON")] = False,
    mode: Annotated[str, typer.Option(help="shopper | assist | query")] = "shopper",
    tenant: Annotated[str | None, typer.Option(help="Shop id")] = None,
    user: Annotated[str, typer.Option(help="Who asks (threads belong to users)")] = "cli",
) -> None:
    """Ask one question; prices and stock are read live from the system of record."""
    if mode not in ("shopper", "assist", "query"):
        raise ValueError("--mode must be shopper, assist or query")
    settings = Settings()
    asyncio.run(_session(settings, _one(question), tenant=tenant or settings.TENANT,
                         thread=thread, user=user, mode=mode, as_json=json_out))


@friendly_errors
def chat(
    thread: Annotated[str | None, typer.Option(help="Continue this conversation")] = None,
    tenant: Annotated[str | None, typer.Option(help="Shop id")] = None,
    user: Annotated[str, typer.Option(help="Who asks (threads belong to users)")] = "cli",
) -> None:
    """Talk to the agent; /new starts a new conversation, /quit (or Ctrl-D) ends."""
    settings = Settings()
    err.print("[dim]Shopkeeper chat: ask about the catalog. /new = new topic, /quit = leave.[/dim]")
    try:
        asyncio.run(_session(settings, _prompt(), tenant=tenant or settings.TENANT,
                             thread=thread, user=user, mode="shopper", as_json=False))
    except KeyboardInterrupt:
        sys.exit(130)


def register(cli: typer.Typer) -> None:
    cli.command("ask")(ask)
    cli.command("chat")(chat)
