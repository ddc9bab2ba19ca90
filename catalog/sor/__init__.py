"""The system of record (SoR): the live truth for price and stock, plus the change outbox."""

from catalog.sor.base import (
    CatalogStore,
    ChangeOutbox,
    ChangeRow,
    DeadLetter,
    DeadLetters,
    PageStore,
    PageWrite,
    SystemOfRecord,
    open_sor,
)

__all__ = [
    "CatalogStore",
    "ChangeOutbox",
    "ChangeRow",
    "DeadLetter",
    "DeadLetters",
    "PageStore",
    "PageWrite",
    "SystemOfRecord",
    "open_sor",
]
