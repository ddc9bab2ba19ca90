"""What the worker does with an error: poison or transient, how long to back off, one DLQ line."""

from __future__ import annotations

import asyncio
import random

from pydantic import ValidationError

from catalog import InvalidInput
from ingestion.backoff import backoff_delay
from ingestion.events import describe

# Errors that retrying cannot fix: the event (or the SoR row it points at) is malformed.
POISON: tuple[type[BaseException], ...] = (
    InvalidInput, ValidationError, ValueError, TypeError, KeyError, ArithmeticError,
)


def is_poison(exc: BaseException) -> bool:
    """True when no retry can fix ``exc``: the event goes to the DLQ at once."""
    return isinstance(exc, POISON)


def reason_of(exc: BaseException) -> str:
    """One line for the DLQ: our own errors by message, anything else with its type."""
    if isinstance(exc, ValidationError):
        return f"ValidationError: {describe(exc)}"[:500]
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if not isinstance(exc, InvalidInput):
        text = f"{type(exc).__name__}: {text}"
    return " ".join(text.split())[:500]


class Retry:
    """The one retry policy of the worker: exponential backoff with jitter, then give up."""

    def __init__(self, max_attempts: int, *, rng: random.Random | None = None) -> None:
        self.max_attempts = max(1, max_attempts)
        self._rng = rng or random.Random()

    def gives_up(self, exc: BaseException, attempts: int) -> bool:
        """No further try: retrying cannot fix ``exc``, or ``attempts`` used up every try."""
        return is_poison(exc) or attempts >= self.max_attempts

    async def pause(self, attempt: int) -> None:
        """Wait before retry ``attempt`` (50 ms doubling, capped at 5 s, jittered)."""
        await asyncio.sleep(backoff_delay(attempt, rng=self._rng))
