"""PageStore on both backends: only changed sections are written, and each write is an outbox
row keyed ``page:<page_id>#<anchor>`` (the change path SKUs use)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from catalog.pages import PageSection
from catalog.sor import PageStore, PageWrite
from catalog.sor.base import SystemOfRecord
from tests.catalog.sor_support import drain, last_id, ops, raw


def _sections() -> list[PageSection]:
    return [
        PageSection("returns", "Returns", "window", "Return window", "30 days.", "/r", 0),
        PageSection("returns", "Returns", "refunds", "Refunds", "Within 5 days.", "/r", 1),
        PageSection("shipping", "Shipping", "abroad", "Delivery abroad", "EU only.", None, 0,
                    demo=True),
    ]


async def test_pages_round_trip_and_only_changes_reach_the_outbox(sor: SystemOfRecord) -> None:
    assert isinstance(sor, PageStore)
    first = await sor.upsert_pages("t1", _sections())
    assert first == PageWrite(written=3, deleted=0, unchanged=0)
    assert sorted(ops(sor)) == [("page:returns#refunds", "upsert"),
                                ("page:returns#window", "upsert"),
                                ("page:shipping#abroad", "upsert")]
    assert await sor.list_page_sections("t1") == sorted(
        _sections(), key=lambda s: (s.page_id, s.position))
    assert await sor.list_page_sections("t2") == []
    got = await sor.get_page_sections("t1", ["page:shipping#abroad", "page:nope#x", "SKU-1"])
    assert list(got) == ["page:shipping#abroad"] and got["page:shipping#abroad"].demo
    await drain(sor)

    mark = last_id(sor)
    assert await sor.upsert_pages("t1", _sections()) == PageWrite(unchanged=3)
    assert ops(sor, mark) == []

    changed = _sections()
    changed[1] = replace(changed[1], text="Within 3 days.")
    result = await sor.upsert_pages("t1", changed[:2])  # shipping not given: kept
    assert result == PageWrite(written=1, deleted=0, unchanged=1)
    assert ops(sor, mark) == [("page:returns#refunds", "upsert")]
    versions = await sor.page_versions("t1")
    assert versions["page:returns#refunds"] > versions["page:returns#window"] > 0

    mark = last_id(sor)
    result = await sor.upsert_pages("t1", changed[:1], prune=True)
    assert result == PageWrite(written=0, deleted=2, unchanged=1)
    assert sorted(ops(sor, mark)) == [("page:returns#refunds", "delete"),
                                      ("page:shipping#abroad", "delete")]
    assert await sor.delete_pages("t1", ["returns"]) == 1
    assert await sor.list_page_sections("t1") == []


async def test_plain_sql_writes_to_pages_are_captured(sor: SystemOfRecord) -> None:
    await sor.upsert_pages("t1", _sections()[:1])
    mark = last_id(sor)
    raw(sor, "UPDATE pages SET text = 'Sixty days.', content_hash = 'x' WHERE anchor = 'window'")
    raw(sor, "UPDATE pages SET updated_at = updated_at WHERE anchor = 'window'")
    raw(sor, "UPDATE pages SET anchor = 'period' WHERE anchor = 'window'")
    assert ops(sor, mark) == [("page:returns#window", "upsert"),
                              ("page:returns#window", "delete"),
                              ("page:returns#period", "upsert")]
    rows = raw(sor, "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1")
    assert "page" in str(rows[0][0])


def test_the_pages_job_of_each_backend_is_exactly_the_page_store(tmp_path: Path) -> None:
    from catalog.sor import CatalogStore, ChangeOutbox, DeadLetters
    from catalog.sor.postgres import PostgresPages
    from catalog.sor.sqlite import SqlitePages
    from tests.catalog.sor_support import PG_URL

    for job in (SqlitePages(f"sqlite:///{tmp_path / 'sor.db'}"), PostgresPages(PG_URL)):
        assert isinstance(job, PageStore) and not isinstance(job, SystemOfRecord)
        assert not any(isinstance(job, p) for p in (CatalogStore, ChangeOutbox, DeadLetters))
