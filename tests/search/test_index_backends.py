"""Backend specifics of the index: Edge shards on disk and their lock, an unreachable server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.errors import IndexUnavailable
from search.index.base import SearchFilter
from search.index.edge import EdgeIndex
from search.index.remote import QdrantClientIndex
from search.payload import PAYLOAD_INDEXES
from tests.search.index_support import DIM, POINTS_A, basis

# -- edge specifics ----------------------------------------------------------------------


def test_edge_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "shard"
    idx = EdgeIndex(path)
    idx.ensure_collection(DIM)
    idx.upsert(POINTS_A)
    idx.set_payload("a", "A2", {"price": 21.0})
    idx.delete("a", ["A5"])
    idx.flush()
    idx.close()

    again = EdgeIndex(path)  # opens the existing shard without ensure_collection
    assert again.count("a") == 4
    assert again.states("a", ["A2"])["A2"].price == 21.0
    again.ensure_collection(DIM)  # loading an existing shard keeps its data
    assert again.count("a") == 4
    assert again.query(SearchFilter("a"), dense=basis(3), limit=1)[0].sku == "A4"
    assert set(again.shard.info().payload_schema) == set(PAYLOAD_INDEXES)
    with pytest.raises(IndexUnavailable, match="16-d"):
        again.ensure_collection(16)
    again.close()


def test_edge_reopen_without_explicit_flush(tmp_path: Path) -> None:
    """close() flushes, so a clean shutdown never loses acknowledged writes."""
    idx = EdgeIndex(tmp_path / "s")
    idx.ensure_collection(DIM)
    idx.upsert(POINTS_A)
    idx.close()
    idx.close()  # idempotent
    again = EdgeIndex(tmp_path / "s")
    assert again.count("a") == 5
    again.close()


def test_edge_second_open_on_same_dir_is_refused(tmp_path: Path) -> None:
    first = EdgeIndex(tmp_path / "s")
    first.ensure_collection(DIM)
    with pytest.raises(IndexUnavailable) as exc:
        EdgeIndex(tmp_path / "s")
    assert exc.value.setting == "SHOPKEEPER_DATA_DIR"
    assert "another process" in str(exc.value) and "\n" not in str(exc.value)
    first.close()
    EdgeIndex(tmp_path / "s").close()  # the lock is released on close


def test_edge_lock_holds_across_processes(tmp_path: Path) -> None:
    first = EdgeIndex(tmp_path / "s")
    first.ensure_collection(DIM)
    code = (
        "import sys\n"
        "from catalog.errors import IndexUnavailable\n"
        "from search.index.edge import EdgeIndex\n"
        "try:\n"
        "    EdgeIndex(sys.argv[1])\n"
        "except IndexUnavailable as e:\n"
        "    print(e.setting); sys.exit(3)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    first.close()
    assert out.returncode == 3, out.stderr
    assert out.stdout.strip() == "SHOPKEEPER_DATA_DIR"


def test_edge_corrupt_dir_is_index_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "s"
    path.mkdir()
    (path / "edge_config.json").write_text("{not json")
    with pytest.raises(IndexUnavailable) as exc:
        EdgeIndex(path)
    assert exc.value.setting == "SHOPKEEPER_DATA_DIR" and "\n" not in str(exc.value)


# -- client specifics --------------------------------------------------------------------


def test_client_unreachable_server_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: connection refused
    idx = QdrantClientIndex(f"http://127.0.0.1:{port}", collection="products")
    for call in (lambda: idx.count("a"), lambda: idx.ensure_collection(DIM)):
        with pytest.raises(IndexUnavailable) as exc:
            call()
        assert exc.value.setting == "SHOPKEEPER_QDRANT_URL"
        assert "\n" not in str(exc.value)
    idx.close()
