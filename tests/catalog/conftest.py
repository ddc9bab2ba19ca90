"""The ``sor`` fixture: every SystemOfRecord contract test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from catalog.sor.base import SystemOfRecord
from tests.catalog.sor_support import PG_URL, new_sor


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def sor(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SystemOfRecord]:
    """An opened SoR: SQLite on tmp_path, or PostgreSQL in a fresh schema dropped afterwards."""
    schema = f"sor_test_{uuid.uuid4().hex[:12]}"
    store = new_sor(request.param, tmp_path, schema)
    store.schema_for_tests = schema  # type: ignore[attr-defined]
    store.path_for_tests = tmp_path  # type: ignore[attr-defined]
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if request.param == "postgres":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
