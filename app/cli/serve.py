"""``shopkeeper serve``: the HTTP API, demo shop, widget and assist panel under uvicorn.

On the embedded defaults, bound to loopback, with no assist keys set, the panel would be
unusable on a fresh machine; so that run gets a one-time assist key, printed once with the
panel's link. Bound anywhere else, no key is made: assist requests are refused with how to
set one (``shopkeeper keys new``).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from app.cli.keys import new_key, setting_for
from app.settings import Settings, hash_key

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def one_time_assist_key(settings: Settings, host: str) -> tuple[Settings, str | None]:
    """The settings to serve with, and the key made for this run (None: none was made)."""
    embedded = not settings.SOR_URL and not settings.QDRANT_URL
    if settings.ASSIST_API_KEY_HASHES or not embedded or not is_loopback(host):
        return settings, None
    key = new_key()
    return settings.model_copy(update={"ASSIST_API_KEY_HASHES": [hash_key(key)]}), key


def panel_url(host: str, port: int, key: str | None = None) -> str:
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}/assist" + (f"#key={key}" if key else "")


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the API on HOST:PORT (one worker process: it owns the embedded index)."""
    import uvicorn

    from app.main import create_app

    settings, key = one_time_assist_key(Settings(), host)
    if key:
        typer.echo(f"Assist panel: {panel_url(host, port, key)}\n"
                   f"One-time assist key for this run (not stored anywhere): {key}\n"
                   f"For a lasting key: shopkeeper keys new --kind assist, then set "
                   f"{setting_for('assist')}.")
    elif not settings.ASSIST_API_KEY_HASHES:
        typer.echo(f"Assist panel: {panel_url(host, port)} is refused until {setting_for('assist')}"
                   " is set (shopkeeper keys new --kind assist prints a key and its hash).")

    uvicorn.run(
        create_app(settings), host=host, port=port, log_level=log_level,
        timeout_graceful_shutdown=10, proxy_headers=True,
    )


def register(cli: typer.Typer) -> None:
    cli.command("serve")(serve)
