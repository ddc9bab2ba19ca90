"""What a source hands its events to: the ``ChangeSink`` protocol the change worker implements.

Sources depend on this protocol, never on the worker, so the worker can run sources without the
two importing each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from ingestion.events import ChangeEvent, Outcome


class ChangeSink(Protocol):
    """Accepts events (with backpressure) and parks what cannot be decoded."""

    async def submit(
        self, events: Iterable[ChangeEvent], *, attempts: Sequence[int] | None = None
    ) -> list[asyncio.Future[Outcome]]:
        """Futures that resolve once each event's effect is durable (then the source acks)."""
        ...

    async def dead_letter_raw(
        self, source: str, event: dict[str, Any], reason: str, attempts: int
    ) -> None:
        """Keep an undecodable message as it came, with its reason."""
        ...
