"""System of record on PostgreSQL (psycopg 3 async pool), for deployments with several processes.

``PostgresSor`` is the four jobs of ``SystemOfRecord`` on one schema: ``database`` (pool,
LISTEN connection, schema install, lifecycle), ``catalog_store`` (every catalog write, and the
reads), ``outbox`` (``FOR UPDATE SKIP LOCKED`` claims, NOTIFY wake-ups),
``dead_letters`` and ``pages``.
"""

from catalog.sor.postgres.catalog_store import PostgresCatalog
from catalog.sor.postgres.database import PostgresDatabase
from catalog.sor.postgres.dead_letters import PostgresDeadLetters
from catalog.sor.postgres.outbox import PostgresOutbox
from catalog.sor.postgres.pages import PostgresPages


class PostgresSor(PostgresCatalog, PostgresOutbox, PostgresDeadLetters, PostgresPages):
    """SystemOfRecord on PostgreSQL; ``schema`` isolates it in one schema (created if missing)."""


__all__ = [
    "PostgresCatalog",
    "PostgresDatabase",
    "PostgresDeadLetters",
    "PostgresOutbox",
    "PostgresPages",
    "PostgresSor",
]
