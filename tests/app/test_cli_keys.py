"""API keys on a fresh machine: ``shopkeeper keys new``, and the one-time assist key that
``shopkeeper serve`` makes on loopback so the assist panel works right after ``make run``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.cli.serve import is_loopback, one_time_assist_key, panel_url
from app.settings import Settings, hash_key
from tests.http_support import fresh_copy

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["assist", "ingest"])
def test_keys_new_prints_a_key_and_the_hash_to_configure(kind: str) -> None:
    result = CliRunner().invoke(cli, ["keys", "new", "--kind", kind])
    assert result.exit_code == 0, result.output
    pairs = (line.split(":", 1) for line in result.output.splitlines()[:2])
    lines = {name: value.strip() for name, value in pairs}
    assert hash_key(lines["key"]) == lines["hash"]
    assert f"SHOPKEEPER_{kind.upper()}_API_KEY_HASHES" in result.output

    as_json = json.loads(CliRunner().invoke(cli, ["keys", "new", "--kind", kind, "--json"])
                         .output)
    assert hash_key(as_json["key"]) == as_json["hash"] and as_json["kind"] == kind
    assert as_json["key"] != lines["key"], "every key is new"


def test_keys_new_refuses_an_unknown_kind() -> None:
    assert CliRunner().invoke(cli, ["keys", "new", "--kind", "admin"]).exit_code == 2


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("shop.example", False),
])
def test_a_one_time_key_only_on_loopback(host: str, loopback: bool, tmp_path: Path) -> None:
    assert is_loopback(host) is loopback
    settings, key = one_time_assist_key(Settings(DATA_DIR=tmp_path, SOR_URL="", QDRANT_URL="",
                                                 ASSIST_API_KEY_HASHES=[]), host)
    assert (key is not None) is loopback
    assert ([hash_key(key)] if key else []) == settings.ASSIST_API_KEY_HASHES


def test_no_one_time_key_beside_configured_keys_or_off_the_embedded_defaults(
    tmp_path: Path,
) -> None:
    configured = Settings(DATA_DIR=tmp_path, ASSIST_API_KEY_HASHES=["ab" * 32])
    assert one_time_assist_key(configured, "127.0.0.1") == (configured, None)
    server = Settings(DATA_DIR=tmp_path, ASSIST_API_KEY_HASHES=[],
                      SOR_URL="postgresql://db/shop", QDRANT_URL="http://qdrant:6333")
    assert one_time_assist_key(server, "127.0.0.1")[1] is None
    assert panel_url("::1", 8000, "k") == "http://[::1]:8000/assist#key=k"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.model
@pytest.mark.slow
def test_serve_on_loopback_prints_a_key_that_the_assist_api_accepts(
    demo_data: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Any
) -> None:
    """``shopkeeper serve`` as ``make run`` starts it: no keys set, bound to 127.0.0.1."""
    data = fresh_copy(demo_data, tmp_path / "data")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPKEEPER_")}
    env.update(SHOPKEEPER_DATA_DIR=str(data), SHOPKEEPER_TENANT="demo",
               SHOPKEEPER_WORKER_MODE="off", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    exported = tmp_path_factory.getbasetemp() / "embedder0" / "models"
    if exported.is_dir():  # the session's ONNX export: saves exporting it again
        env["SHOPKEEPER_MODEL_DIR"] = str(exported)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        printed = [proc.stdout.readline() for _ in range(3)]
        link = printed[0].split("Assist panel: ", 1)[1].strip()
        key = link.split("#key=", 1)[1]
        assert link == f"http://127.0.0.1:{port}/assist#key={key}"
        assert key in printed[1] and "shopkeeper keys new --kind assist" in printed[2]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(900):  # until the server listens (it loads the model first)
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, "the server exited"
                    time.sleep(0.2)
            assert client.get("/assist").status_code == 200
            body = {"message": "is the HP USB Optical 3-button Mouse in stock?"}
            assert client.post("/v1/assist", json=body).status_code == 401
            ok = client.post("/v1/assist", json=body,
                             headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200, ok.text
            assert ok.json()["text"] and ok.json()["evidence"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
