"""File source: replay a JSONL file of changes, one event per line in the webhook item shape.

Each line may carry its own ``tenant`` (default: ``--tenant``). Blank lines and ``#`` comments are
skipped. A line that is not a valid event is reported with its line number (and dead-lettered by
the replay, with the reason); the lines around it are still applied. File events are writes: the
replay applies them to the SoR in file order and the outbox path updates the index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingestion.events import ChangeEvent
from ingestion.sources.webhook import parse_item

MAX_LINE_CHARS = 1_000_000
MAX_RAW_CHARS = 4000


@dataclass(frozen=True)
class FileLine:
    """One line of the file: its event, or why it is not one."""

    number: int
    event: ChangeEvent | None
    error: str | None
    raw: str

    def dead_letter_body(self) -> dict[str, object]:
        return {"line": self.number, "raw": self.raw[:MAX_RAW_CHARS]}


def read_changes(path: Path, *, tenant: str) -> Iterator[FileLine]:
    """Parse lazily, so a file of millions of changes streams through in constant memory."""
    now = datetime.now(UTC)
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if len(text) > MAX_LINE_CHARS:
                yield FileLine(number, None, f"line longer than {MAX_LINE_CHARS} characters", text)
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                yield FileLine(number, None, f"not JSON: {exc.msg} at column {exc.colno}", text)
                continue
            line_tenant = item.get("tenant") if isinstance(item, dict) else None
            try:
                event = parse_item(
                    item, tenant=line_tenant if isinstance(line_tenant, str) else tenant,
                    source="file", now=now,
                )
            except ValueError as exc:
                yield FileLine(number, None, str(exc), text)
                continue
            yield FileLine(number, event, None, text)
