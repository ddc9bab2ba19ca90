"""The system of record (SoR): the live truth for price and stock, plus the change outbox."""

from catalog.sor.base import ChangeRow, DeadLetter, SystemOfRecord, open_sor

__all__ = ["ChangeRow", "DeadLetter", "SystemOfRecord", "open_sor"]
