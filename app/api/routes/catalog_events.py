"""``POST /v1/catalog/events``: the shop's change webhook (ingest API key).

Each event is validated (shape by FastAPI, meaning by ``webhook.parse_batch``); the batch is
all or nothing, so a sender retries one batch, never a remainder. Accepted writes are applied
to the SoR in order before the 202, and the SoR's outbox then brings the index in step.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.api.deps import IngestKey, SettingsDep, WorkerDep, key_first
from app.api.openapi import KEYED, error
from app.api.schemas import EventRejection, EventsAccepted, EventsRejected
from app.errors import validation_details
from catalog import ServiceUnavailable
from ingestion.sources.webhook import MAX_BATCH, WebhookEvent, parse_batch


def _rejected(message: str, rejections: list[EventRejection],
              details: list[dict[str, str]] | None = None) -> JSONResponse:
    body = EventsRejected(
        error={"type": "invalid_event", "message": message,  # type: ignore[arg-type]
               "details": details},
        rejected=rejections,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


def _shape_rejections(exc: RequestValidationError) -> JSONResponse:
    """The schema's own refusals in the webhook's 422 shape: a reason per event index (none
    when the body is not a list of events at all)."""
    body = exc.body if isinstance(exc.body, list) else []
    reasons: dict[int, list[str]] = {}
    whole: list[str] = []
    details = validation_details(exc)
    for err, detail in zip(exc.errors(), details, strict=True):
        loc = err.get("loc", ())
        if err.get("type") != "json_invalid" and len(loc) > 1 and isinstance(loc[1], int):
            field = ".".join(str(p) for p in loc[2:]) or "event"
            reasons.setdefault(loc[1], []).append(f"{field}: {detail['message']}")
        else:
            whole.append(detail["message"])
    rejections = []
    for index, why in sorted(reasons.items()):
        item = body[index] if index < len(body) else None
        raw_id = item.get("id") if isinstance(item, dict) else None
        rejections.append(EventRejection(index=index, id=raw_id if isinstance(raw_id, str)
                                         else None, reason="; ".join(why)))
    if whole:
        message = (f"the body must be a JSON list of 1 to {MAX_BATCH} change events "
                   f"({'; '.join(whole)}); nothing was queued")
    else:
        message = f"{len(rejections)} events were rejected; nothing was queued"
    return _rejected(message, rejections, details)


class WebhookRoute(key_first("ingest")):  # type: ignore[misc]
    """The key first (before the body is read), then every 422 in the documented shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rejecting(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _shape_rejections(exc)

        return rejecting


router = APIRouter(prefix="/v1/catalog", tags=["catalog"], route_class=WebhookRoute)

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
        422: {"model": EventsRejected, "description": "Some events are invalid (a reason per "
              "event in `rejected`; empty when the body is not a list of events); none was queued"},
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
        return _rejected(
            f"{len(rejections)} of {len(items)} events were rejected; nothing was queued",
            [EventRejection(index=r.index, id=r.event_id, reason=r.reason) for r in rejections],
        )
    futures = await worker.submit(parsed)
    outcomes: dict[str, str] = {
        ev.event_id: await fut for ev, fut in zip(parsed, futures, strict=True)
    }
    return EventsAccepted(accepted=list(outcomes), count=len(outcomes), outcomes=outcomes)
