"""Liveness, readiness (index, SoR, worker lag) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import RuntimeDep
from app.api.schemas import Check, Health, Ready

router = APIRouter(tags=["ops"])

CHECK_TIMEOUT_S = 2.0
# Past this the worker is flagged; readiness still holds, since refusing traffic cannot fix it.
WORKER_LAG_WARN_S = 300.0


async def _check(fn: Callable[[], Awaitable[str]]) -> Check:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(fn(), CHECK_TIMEOUT_S)
        ok = True
    except TimeoutError:
        ok, detail = False, f"no answer within {CHECK_TIMEOUT_S} s"
    except Exception as exc:  # a readiness probe reports failures, it never raises them
        ok, detail = False, getattr(exc, "message", None) or type(exc).__name__
    return Check(ok=ok, detail=detail, ms=round((time.perf_counter() - started) * 1000, 2))


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Ready,
    summary="Readiness: index and SoR answer now; worker lag reported",
    responses={503: {"model": Ready, "description": "The index or the SoR is not usable"}},
)
async def readyz(rt: RuntimeDep) -> JSONResponse:
    tenant = rt.settings.TENANT

    async def index() -> str:
        n = await asyncio.to_thread(rt.services.index.count, tenant)
        return f"{n} points for tenant {tenant!r}" + ("" if n else " (run `shopkeeper ingest`)")

    async def sor() -> str:
        await rt.services.sor.ping()
        return "answers"

    index_check, sor_check = await asyncio.gather(_check(index), _check(sor))
    checks = {"index": index_check, "sor": sor_check}
    worker: dict[str, Any] = {"mode": rt.settings.WORKER_MODE}
    if rt.worker is not None:
        worker.update(rt.worker.stats())
        lag = float(worker.get("lag_seconds") or 0.0)
        checks["worker"] = Check(
            ok=lag <= WORKER_LAG_WARN_S,
            detail=f"lag {lag:.1f} s (flagged past {WORKER_LAG_WARN_S:.0f} s)",
        )
    ready = checks["index"].ok and checks["sor"].ok
    body = Ready(status="ready" if ready else "not_ready", checks=checks, worker=worker)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(rt: RuntimeDep) -> Response:
    return Response(generate_latest(rt.registry), media_type=CONTENT_TYPE_LATEST)
