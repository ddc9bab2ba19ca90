"""Embedded system of record on SQLite (WAL): the default, safe for an API and a worker process.

``SqliteSor`` is the three jobs of ``SystemOfRecord`` on one file and one connection pair:
``database`` (connections, threads, lifecycle), ``catalog_store`` (every catalog write, and the
reads), ``outbox`` (claim, ack, release, poll) and ``dead_letters`` (the DLQ).
"""

from catalog.sor.sqlite.catalog_store import SqliteCatalog
from catalog.sor.sqlite.database import SqliteDatabase, sqlite_path
from catalog.sor.sqlite.dead_letters import SqliteDeadLetters
from catalog.sor.sqlite.outbox import SqliteOutbox


class SqliteSor(SqliteCatalog, SqliteOutbox, SqliteDeadLetters):
    """SystemOfRecord on one SQLite file; outbox rows come from triggers in ``schema.py``."""


__all__ = [
    "SqliteCatalog",
    "SqliteDatabase",
    "SqliteDeadLetters",
    "SqliteOutbox",
    "SqliteSor",
    "sqlite_path",
]
