"""Replays: a JSONL file of changes (``shopkeeper ingest --changes``) and the dead-letter queue.

Both run a change worker in this process: writes go to the SoR (in order), the worker's outbox
source brings the index in step, and the command returns once the outbox is drained. On the
embedded index this needs the data dir to itself (stop ``shopkeeper serve`` first, or post the
changes to ``POST /v1/catalog/events`` instead).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from catalog import InvalidEvent
from catalog.sor import DeadLetter, SystemOfRecord
from ingestion.events import ChangeEvent, Outcome, parse_event
from ingestion.sources.files import read_changes
from ingestion.sources.kafka import decode
from ingestion.worker import ChangeWorker, WorkerConfig
from ingestion.writer import IndexWriter

CHUNK = 500
DRAIN_TIMEOUT_S = 300.0


@dataclass
class ReplayReport:
    """What a replay did; ``drained`` is False if the index had not caught up in time."""

    source: str
    lines: int = 0
    events: int = 0
    applied: int = 0
    skipped_stale: int = 0
    skipped_unchanged: int = 0
    dead_lettered: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    drained: bool = True
    seconds: float = 0.0

    def count(self, outcomes: Sequence[Outcome]) -> None:
        for o in outcomes:
            setattr(self, o, getattr(self, o) + 1)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["rejected"] = len(self.rejected)
        data["rejections"] = self.rejected[:20]
        return data


def replay_worker(sor: SystemOfRecord, writer: IndexWriter, config: WorkerConfig) -> ChangeWorker:
    """A short-lived worker: the outbox only, no status file; the model loads only if a change
    needs embedding."""
    return ChangeWorker(sor, writer, config, sources=("outbox",), write_status=False,
                        warm_model=False)


async def replay_file(worker: ChangeWorker, path: Path, *, tenant: str) -> ReplayReport:
    """Apply every valid line in order; dead-letter the others with their line and reason.

    ``worker`` is started here and stopped once the outbox has drained."""
    if not path.is_file():
        raise ValueError(f"changes file not found: {path}")
    started = time.perf_counter()
    report = ReplayReport(source=str(path))
    await worker.start()
    try:
        chunk: list[ChangeEvent] = []
        for line in read_changes(path, tenant=tenant):
            report.lines += 1
            if line.event is None:
                reason = f"line {line.number}: {line.error}"
                await worker.dead_letter_raw("file", line.dead_letter_body(), reason, 1)
                report.rejected.append({"line": line.number, "reason": line.error})
                report.dead_lettered += 1
                continue
            chunk.append(line.event)
            if len(chunk) >= CHUNK:
                await _submit(worker, chunk, report)
                chunk = []
        await _submit(worker, chunk, report)
        report.drained = await worker.drain(DRAIN_TIMEOUT_S)
    finally:
        await worker.stop()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


async def _submit(worker: ChangeWorker, events: list[ChangeEvent], report: ReplayReport) -> None:
    if not events:
        return
    report.events += len(events)
    futures = await worker.submit(events)
    report.count(await asyncio.gather(*futures))


# -- dead-letter queue ----------------------------------------------------------------------------
def events_from_dead_letter(letter: DeadLetter, *, tenant: str) -> list[ChangeEvent]:
    """Rebuild the events of a dead letter: a stored event, a raw Kafka message or a file line."""
    body = letter.event
    if letter.source == "kafka" and "value" in body and "event_id" not in body:
        value = body.get("value")
        return decode(value.encode() if isinstance(value, str) else None)
    if letter.source == "file" and "raw" in body and "event_id" not in body:
        line = str(body.get("raw", ""))
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidEvent(f"still not JSON: {exc.msg}") from None
        from ingestion.sources.webhook import parse_item

        try:
            line_tenant = item.get("tenant") if isinstance(item, dict) else None
            return [parse_item(item, tenant=line_tenant or tenant, source="file")]
        except ValueError as exc:
            raise InvalidEvent(str(exc)) from None
    if letter.source == "outbox" and "outbox_id" in body:
        raise InvalidEvent("the outbox row itself was malformed; fix it in the SoR")
    return [parse_event(body)]


@dataclass
class DlqReplayReport:
    replayed: list[int] = field(default_factory=list)
    still_invalid: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    drained: bool = True


async def replay_dead_letters(
    worker: ChangeWorker, ids: Sequence[int] | None = None, *, tenant: str,
    limit: int = 100_000,
) -> DlqReplayReport:
    """Re-submit dead letters (all when ``ids`` is None); each is removed only once resubmitted.

    A letter that fails again is dead-lettered anew (with the new reason), so nothing is lost.
    Lines without a tenant of their own belong to ``tenant``.
    """
    report = DlqReplayReport()
    sor = worker.sor
    letters = await sor.list_dead_letters(limit=limit)
    if ids is not None:
        wanted = set(ids)
        letters = [d for d in letters if d.id in wanted]
        missing = wanted - {d.id for d in letters}
        report.still_invalid += [{"id": i, "reason": "no such dead letter"}
                                 for i in sorted(missing)]
    if not letters:
        return report
    await worker.start()
    try:
        for letter in letters:
            try:
                events = events_from_dead_letter(letter, tenant=tenant)
            except InvalidEvent as exc:
                report.still_invalid.append({"id": letter.id, "reason": exc.message})
                continue
            futures = await worker.submit(events)
            for outcome in await asyncio.gather(*futures):
                report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
            await sor.pop_dead_letters([letter.id])
            report.replayed.append(letter.id)
        report.drained = await worker.drain(DRAIN_TIMEOUT_S)
    finally:
        await worker.stop()
    return report
