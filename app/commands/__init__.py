"""CLI commands that live beside the subsystem they drive; each module adds its own commands."""

from __future__ import annotations

import importlib

import typer

MODULES = ("app.commands.worker", "app.commands.serve", "app.commands.agent")


def register(cli: typer.Typer) -> None:
    """Attach every command module that is present (each has ``register(cli)``)."""
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(cli)
