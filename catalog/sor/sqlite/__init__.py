"""Embedded system of record on SQLite (WAL): the default, safe for an API and a worker process.

``SqliteSor`` is the four jobs of ``SystemOfRecord`` on one file and one connection pair:
``database`` (connections, threads, lifecycle), ``catalog_store`` (every catalog write, and the
reads), ``outbox`` (claim, ack, release, poll), ``dead_letters`` (the DLQ) and ``pages``
(store page sections).
"""

from catalog.sor.sqlite.catalog_store import SqliteCatalog
from catalog.sor.sqlite.database import SqliteDatabase, sqlite_path
from catalog.sor.sqlite.dead_letters import SqliteDeadLetters
from catalog.sor.sqlite.outbox import SqliteOutbox
from catalog.sor.sqlite.pages import SqlitePages


class SqliteSor(SqliteCatalog, SqliteOutbox, SqliteDeadLetters, SqlitePages):
    """SystemOfRecord on one SQLite file; outbox rows come from triggers in ``schema.py``."""


__all__ = [
    "SqliteCatalog",
    "SqliteDatabase",
    "SqliteDeadLetters",
    "SqliteOutbox",
    "SqlitePages",
    "SqliteSor",
    "sqlite_path",
]
