"""What another process can see: the SoR-side backlog, refreshed every second, and a status file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.sor import SystemOfRecord

log = logging.getLogger("shopkeeper.worker")

STATUS_FILE = "worker-status.json"


@dataclass
class SorFigures:
    """The backlog as the SoR sees it (cached: ``stats()`` must stay cheap for ``/ready``)."""

    dlq_size: int | None = None
    outbox_pending: int | None = None
    outbox_lag: float = 0.0

    async def refresh(self, sor: SystemOfRecord) -> None:
        """Re-read DLQ size, outbox backlog and the age of its oldest row."""
        self.dlq_size = await sor.count_dead_letters()
        self.outbox_pending = await sor.pending_changes()
        oldest = await sor.oldest_pending_at()
        self.outbox_lag = (
            (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        )

    def dead_lettered(self) -> None:
        """One more row in the DLQ, seen before the next refresh."""
        if self.dlq_size is not None:
            self.dlq_size += 1


class StatusReporter:
    """Refreshes the figures and writes ``stats()`` as JSON for ``shopkeeper status``."""

    def __init__(
        self,
        sor: SystemOfRecord,
        figures: SorFigures,
        stats: Callable[[], dict[str, Any]],
        *,
        path: Path | None,
        tick: Callable[[], None] = lambda: None,
    ) -> None:
        self._sor = sor
        self._figures = figures
        self._stats = stats
        self._path = path
        self._tick = tick

    async def run(self, every: float = 1.0) -> None:
        """Refresh the SoR-side figures and the status file, once per ``every`` seconds."""
        while True:
            try:
                await self._figures.refresh(self._sor)
            except Exception as exc:  # status is best effort; the SoR may be briefly away
                log.debug("status refresh failed: %s", exc)
            self._tick()
            self.write()
            await asyncio.sleep(every)

    def write(self, *, final: bool = False) -> None:
        """A small JSON file so ``shopkeeper status`` (another process) can see the queue."""
        if self._path is None:
            return
        try:
            now = datetime.now(UTC).isoformat()
            data = {**self._stats(), "pid": os.getpid(), "updated_at": now}
            if final:
                data["running"] = False
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self._path)
        except OSError as exc:
            log.debug("cannot write %s: %s", self._path, exc)
