"""``shopkeeper keys new --kind assist|ingest``: a new API key and the hash the server stores."""

from __future__ import annotations

import json
import secrets
from enum import StrEnum
from typing import Annotated

import typer

from app.settings import hash_key

keys = typer.Typer(help="API keys for the assist panel and the change webhook.",
                   no_args_is_help=True)


class Kind(StrEnum):
    assist = "assist"
    ingest = "ingest"


def new_key() -> str:
    """32 random bytes, URL-safe: fit for a header and a URL fragment."""
    return secrets.token_urlsafe(32)


def setting_for(kind: str) -> str:
    return f"SHOPKEEPER_{kind.upper()}_API_KEY_HASHES"


@keys.command("new")
def keys_new(
    kind: Annotated[Kind, typer.Option("--kind", help="assist (agents' panel, /v1/assist, "
                                       "/v1/agui) or ingest (/v1/catalog/events)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print {kind, key, hash, setting}")]
    = False,
) -> None:
    """Print a new key (give it to its user; it is shown only now) and its SHA-256, which is
    all the server keeps: add the hash to the setting and restart the server."""
    key = new_key()
    digest = hash_key(key)
    setting = setting_for(kind.value)
    if as_json:
        typer.echo(json.dumps({"kind": kind.value, "key": key, "hash": digest,
                               "setting": setting}))
        return
    typer.echo(f"key:  {key}")
    typer.echo(f"hash: {digest}")
    typer.echo("")
    typer.echo(f"The server stores only the hash. Add it to {setting} (a JSON list), e.g.")
    typer.echo(f"  export {setting}='[\"{digest}\"]'")
    typer.echo("then restart the server, and send the key as `Authorization: Bearer <key>`.")


def register(cli: typer.Typer) -> None:
    cli.add_typer(keys, name="keys")
