"""``POST /v1/catalog/events``: the shop's change webhook (ingest API key).

Each event is validated (shape by FastAPI, meaning by ``webhook.parse_batch``); the batch is
all or nothing, so a sender retries one batch, never a remainder. Accepted writes are applied
to the SoR in order before the 202, and the SoR's outbox then brings the index in step.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from app.api.deps import IngestKey, SettingsDep, WorkerDep
from app.api.openapi import KEYED, error
from app.api.schemas import EventRejection, EventsAccepted, EventsRejected
from catalog import ServiceUnavailable
from ingestion.sources.webhook import MAX_BATCH, WebhookEvent, parse_batch

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])

EventsBody = Annotated[
    list[WebhookEvent],
    Body(min_length=1, max_length=MAX_BATCH, description=f"1 to {MAX_BATCH} change events"),
]


@router.post(
    "/events",
    status_code=202,
    response_model=EventsAccepted,
    summary="Post catalog changes (price, stock, upsert, delete)",
    responses={
        **KEYED,
        422: {"model": EventsRejected, "description": "Some events are invalid; none was queued"},
        503: error("No change worker in this process (SHOPKEEPER_WORKER_MODE=off)"),
    },
)
async def post_events(
    events: EventsBody,
    _: IngestKey,
    worker: WorkerDep,
    settings: SettingsDep,
    tenant: Annotated[str | None, Query(max_length=64, description="Default: TENANT")] = None,
) -> EventsAccepted | JSONResponse:
    """202: every event was committed to the SoR (or dead-lettered: see `outcomes`)."""
    if worker is None:
        raise ServiceUnavailable("this API has no change worker", setting="SHOPKEEPER_WORKER_MODE")
    items = [e.model_dump(mode="json", exclude_unset=True) for e in events]
    parsed, rejections = parse_batch(items, tenant=tenant or settings.TENANT)
    if rejections:
        body = EventsRejected.model_validate({
            "error": {
                "type": "invalid_event",
                "message": f"{len(rejections)} of {len(items)} events were rejected; "
                "nothing was queued",
            },
            "rejected": [
                EventRejection(index=r.index, id=r.event_id, reason=r.reason) for r in rejections
            ],
        })
        return JSONResponse(body.model_dump(mode="json"), status_code=422)
    futures = await worker.submit(parsed)
    outcomes: dict[str, str] = {
        ev.event_id: await fut for ev, fut in zip(parsed, futures, strict=True)
    }
    return EventsAccepted(accepted=list(outcomes), count=len(outcomes), outcomes=outcomes)
