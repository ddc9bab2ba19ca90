"""File replay (``shopkeeper ingest --changes``), DLQ replay, and the worker's CLI commands.

The replays run on the real SQLite SoR and Edge index with the hash embedder; the CLI tests run
the real commands in-process (typer's runner) on a fresh data dir and never load the model,
because none of their changes needs an embedding.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cdc_helpers import TENANT, assert_index_equals_sor, product, settings_for, stack
from typer.testing import CliRunner

from app.wiring import Services, build_replay_worker
from ingestion.replay import replay_dead_letters, replay_file
from ingestion.sources.files import read_changes

P1 = product(1, skus=2).model_dump(mode="json", exclude={"tenant"})
P2 = product(2).model_dump(mode="json", exclude={"tenant"})


def line(**item: Any) -> str:
    return json.dumps(item)


def deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"x": 1}
    for _ in range(levels):
        node = {"x": node}
    return node


CHANGES = [
    "# a comment, then a blank line",
    "",
    line(id="f1", entity="product", op="upsert", product=P1, version=1),              # 3
    "{not json",                                                                       # 4
    line(id="f2", op="price", sku="S1-0", version=2, price={"amount": "19.99"}),      # 5
    line(id="f3", op="price", sku="S404", version=3, price={"amount": "1.00"}),       # 6 unknown
    line(id="f4", op="stock", sku="S1-1", version=4, stock={"quantity": 0}),          # 7
    line(id="f5", op="price", sku="S1-0", version=5, price={"amount": "NaN"}),        # 8 hostile
    line(id="f6", op="delete", sku="S1-0\u0000; DROP TABLE skus", version=6),         # 9 hostile
    line(id="f7", entity="product", op="upsert", version=7,
         product={**P2, "tenant": "someone-else"}),                                    # 10 hostile
    line(id="f8", entity="product", op="upsert", product=P2, version=8,
         extra=deep(40)),                                                              # 11 hostile
    line(id="f9", entity="product", op="upsert", product=P2, version=9),              # 12
    line(id="f10", op="price", sku="S1-0", version=1, price={"amount": "0.01"}),      # 13 stale
    line(id="f11", op="delete", sku="S1-1", version=11),                              # 14
]


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    async with stack(tmp_path) as services:
        yield services


def test_read_changes_reports_each_bad_line_by_number(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    path.write_text("\n".join(CHANGES) + "\n")
    lines = list(read_changes(path, tenant=TENANT))
    assert [ln.number for ln in lines] == list(range(3, 15))
    bad = {ln.number: ln.error for ln in lines if ln.event is None}
    assert set(bad) == {4, 8, 9, 10, 11}
    assert bad[4] is not None and bad[4].startswith("not JSON")
    assert all(ln.event.source == "file" for ln in lines if ln.event is not None)


async def test_file_replay_applies_valid_lines_and_dead_letters_the_rest(
    svc: Services, tmp_path: Path
) -> None:
    path = tmp_path / "changes.jsonl"
    path.write_text("\n".join(CHANGES) + "\n")
    report = await replay_file(build_replay_worker(svc, settings_for(tmp_path)), path,
                               tenant=TENANT)
    assert report.drained
    assert (report.lines, report.events) == (12, 7)
    assert (report.applied, report.skipped_stale) == (5, 1)
    assert report.dead_lettered == 6  # 5 invalid lines + the price for an unknown SKU
    letters = await svc.sor.list_dead_letters()
    reasons = {d.event.get("line", d.event.get("event_id")): d.reason for d in letters}
    assert "not JSON" in reasons[4]
    assert "unknown sku 'S404'" in reasons["f3"]
    assert "payload.price" in reasons[8] or "price.amount" in reasons[8]
    assert "control characters" in reasons[9]
    assert "tenant differs from the authenticated tenant" in reasons[10]  # named, not echoed
    assert "Extra inputs" in reasons[11]
    offers = await svc.sor.get_offers(TENANT, ["S1-0", "S1-1", "S2"])
    assert set(offers) == {"S1-0", "S2"}  # S1-1 deleted by the last line
    assert str(offers["S1-0"].price) == "$19.99"  # the stale 0.01 (version 1) was skipped
    await assert_index_equals_sor(svc.sor, svc.index)


async def test_dlq_replay_resubmits_and_removes_only_what_it_replayed(
    svc: Services, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    path = tmp_path / "changes.jsonl"
    path.write_text("\n".join([
        line(id="r1", op="price", sku="S1", version=1, price={"amount": "5.00"}),
        "{still not json",
    ]) + "\n")
    await replay_file(build_replay_worker(svc, settings), path, tenant=TENANT)
    letters = await svc.sor.list_dead_letters()
    [price_letter] = [d for d in letters if "event_id" in d.event]
    [garbage_letter] = [d for d in letters if "line" in d.event]
    assert price_letter.event["event_id"] == "r1"
    # The SKU exists now, so the dead-lettered price can be applied.
    await svc.sor.upsert_products([product(1)])
    report = await replay_dead_letters(build_replay_worker(svc, settings),
                                       [price_letter.id, garbage_letter.id, 999],
                                       tenant=settings.TENANT)
    assert report.replayed == [price_letter.id]
    assert report.outcomes == {"applied": 1}
    assert sorted(x["id"] for x in report.still_invalid) == sorted([999, garbage_letter.id])
    assert [d.id for d in await svc.sor.list_dead_letters()] == [garbage_letter.id]
    offers = await svc.sor.get_offers(TENANT, ["S1"])
    assert str(offers["S1"].price) == "$5.00"
    await assert_index_equals_sor(svc.sor, svc.index)
    # Replaying everything: the garbage line is still garbage and stays put.
    again = await replay_dead_letters(build_replay_worker(svc, settings), tenant=settings.TENANT)
    assert again.replayed == [] and len(again.still_invalid) == 1


async def test_replayed_events_that_fail_again_are_dead_lettered_anew(
    svc: Services, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    path = tmp_path / "changes.jsonl"
    path.write_text(line(id="r2", op="stock", sku="GONE", version=1, stock={"quantity": 1}) + "\n")
    await replay_file(build_replay_worker(svc, settings), path, tenant=TENANT)
    [first] = await svc.sor.list_dead_letters()
    report = await replay_dead_letters(build_replay_worker(svc, settings),
                                       tenant=settings.TENANT)
    assert report.outcomes == {"dead_lettered": 1}
    [second] = await svc.sor.list_dead_letters()
    assert second.id != first.id and second.event["event_id"] == "r2"


# -- the CLI ------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from app.cli import cli

    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOPKEEPER_TENANT", TENANT)
    monkeypatch.delenv("SHOPKEEPER_SOR_URL", raising=False)
    monkeypatch.delenv("SHOPKEEPER_QDRANT_URL", raising=False)
    monkeypatch.delenv("SHOPKEEPER_KAFKA_BOOTSTRAP", raising=False)
    return cli


def test_cli_replay_status_and_dlq_commands(cli_env: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    changes = tmp_path / "changes.jsonl"
    changes.write_text("\n".join([
        line(id="c1", op="price", sku="NOPE", version=1, price={"amount": "2.00"}),
        "oops",
        line(id="c2", op="delete", sku="ALSO-NOPE", version=2),
    ]) + "\n")
    result = runner.invoke(cli_env, ["ingest", "--changes", str(changes), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["events"], report["applied"], report["dead_lettered"]) == (2, 1, 2)

    result = runner.invoke(cli_env, ["dlq", "list", "--json"])
    assert result.exit_code == 0, result.output
    letters = json.loads(result.stdout)
    assert [(d["source"], d["summary"][:2]) for d in letters] == [("file", "fi"), ("file", "c1")]
    assert "unknown sku 'NOPE'" in letters[1]["reason"]

    result = runner.invoke(cli_env, ["status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["dlq_size"] == 2 and status["outbox_pending"] == 0
    assert status["lag_seconds"] == 0 and status["worker"]["running"] is False
    embedder = status["embedder"]  # the index opened by the replay recorded the one in use
    assert embedder["in_use"].startswith("all-MiniLM-L6-v2+onnx-")
    assert embedder["index"] == embedder["in_use"] and embedder["matches"] is True

    result = runner.invoke(cli_env, ["dlq", "replay", str(letters[1]["id"]), "--json"])
    assert result.exit_code == 0, result.output
    replay = json.loads(result.stdout)
    assert replay["replayed"] == [letters[1]["id"]]
    assert replay["outcomes"] == {"dead_lettered": 1}  # still an unknown SKU: parked again

    result = runner.invoke(cli_env, ["ingest", "--changes", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
    assert "changes file not found" in result.output
