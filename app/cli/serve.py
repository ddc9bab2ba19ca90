"""``shopkeeper serve``: the HTTP API, demo shop, widget and assist panel under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the API on HOST:PORT (one worker process: it owns the embedded index)."""
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    uvicorn.run(
        create_app(Settings()), host=host, port=port, log_level=log_level,
        timeout_graceful_shutdown=10, proxy_headers=True,
    )


def register(cli: typer.Typer) -> None:
    cli.command("serve")(serve)
