"""The ``shopkeeper`` console script: one Typer app, one module per command group.

``ingest`` (catalog files, change replays), ``search``, ``eval``, ``ask``/``chat``, ``serve``,
``worker``/``status``, ``dlq`` and ``pages`` (store pages). Every command turns ``Settings``
into components through ``app.wiring``.
"""

from __future__ import annotations

import sys

import typer

from app.cli import agent, dlq, evaluate, ingest, pages, search, serve, worker

cli = typer.Typer(
    help="Shopkeeper: answers shoppers' questions about a catalog, correctly and live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for module in (ingest, search, evaluate, agent, serve, worker, dlq, pages):
    module.register(cli)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["cli", "main"]
