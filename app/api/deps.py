"""Typed dependencies: the app's long-lived objects, caller identity, API keys, limits.

Guards live here (not repeated in routes): the rate limit, the API-key checks, the message and
history limits, and the thread-owner check before a thread is resumed.
"""

from __future__ import annotations

import hmac
import time
import uuid
from typing import Annotated, Literal

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from agents import ShoppingAgent
from app.api.schemas import AssistIn, ChatIn, QueryIn
from app.runtime import Runtime
from app.settings import Settings, hash_key
from app.wiring import Services
from catalog import Forbidden, InvalidInput, RateLimited, Unauthorized
from ingestion import ChangeWorker

CLIENT_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{8,128}$"


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(rt: RuntimeDep) -> Settings:
    return rt.settings


def get_services(rt: RuntimeDep) -> Services:
    return rt.services


def get_agent(rt: RuntimeDep) -> ShoppingAgent:
    return rt.agent


def get_worker(rt: RuntimeDep) -> ChangeWorker | None:
    return rt.worker


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[Services, Depends(get_services)]
AgentDep = Annotated[ShoppingAgent, Depends(get_agent)]
WorkerDep = Annotated[ChangeWorker | None, Depends(get_worker)]


# -- caller identity -----------------------------------------------------------------------------

ClientIdHeader = Annotated[
    str | None,
    Header(
        alias="X-Client-Id",
        pattern=CLIENT_ID_PATTERN,
        description="Opaque id the widget keeps in localStorage; it owns the threads it starts. "
        "When absent, the server mints one and returns it in the X-Client-Id response header.",
        examples=["c-4f1d9a7e2b6c4e0f"],
    ),
]


def client_id(x_client_id: ClientIdHeader = None) -> str:
    return x_client_id or f"anon-{uuid.uuid4().hex}"


ClientId = Annotated[str, Depends(client_id)]

bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="or `X-API-Key: <key>`"
)


def presented_key(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key_header)],
) -> str | None:
    return creds.credentials if creds else header_key


PresentedKey = Annotated[str | None, Depends(presented_key)]


def rate_limit(request: Request, rt: RuntimeDep, key: PresentedKey) -> None:
    """One bucket per caller: its API key, else its client id, else its address."""
    if key:
        who = "key:" + hash_key(key)[:16]
    else:
        who = request.headers.get("x-client-id") or "ip:" + (
            request.client.host if request.client else "unknown"
        )
    try:
        rt.limiter.hit(who)
    except RateLimited:
        rt.metrics.rate_limited.inc()
        raise


# -- API keys --------------------------------------------------------------------------------------

KeyScope = Literal["assist", "ingest"]


def _known(digest: str, hashes: list[str]) -> bool:
    # Compare against every hash without stopping early, each in constant time, so response
    # timing reveals neither which key nor how much of a hash matched.
    found = False
    for h in hashes:
        found |= hmac.compare_digest(digest, h.strip().lower())
    return found


class RequireKey:
    """401 without a valid key; 403 for a valid key of the other scope (known, not allowed)."""

    def __init__(self, scope: KeyScope) -> None:
        self.scope = scope

    def __call__(self, key: PresentedKey, settings: SettingsDep) -> str:
        scopes = {
            "assist": settings.ASSIST_API_KEY_HASHES,
            "ingest": settings.INGEST_API_KEY_HASHES,
        }
        setting = f"SHOPKEEPER_{self.scope.upper()}_API_KEY_HASHES"
        if not key:
            raise Unauthorized(
                f"an {self.scope} API key is required: send `Authorization: Bearer <key>` "
                "or `X-API-Key: <key>`"
            )
        digest = hash_key(key)
        if _known(digest, scopes[self.scope]):
            return digest[:12]
        other = "ingest" if self.scope == "assist" else "assist"
        if _known(digest, scopes[other]):
            raise Forbidden(f"this key is an {other} key; it may not call {self.scope} endpoints")
        if not scopes[self.scope]:
            raise Unauthorized(f"no {self.scope} keys are configured here (set {setting})")
        raise Unauthorized(f"the {self.scope} API key is not valid")


AssistKey = Annotated[str, Depends(RequireKey("assist"))]
IngestKey = Annotated[str, Depends(RequireKey("ingest"))]


# -- limits and ownership ------------------------------------------------------------------------


# The agent's own cap (AgentRequest.message); a larger setting must not turn into a 500.
AGENT_MAX_CHARS = 4000


def _check_message(message: str, settings: Settings, field: str = "message") -> None:
    limit = min(settings.MAX_MESSAGE_CHARS, AGENT_MAX_CHARS)
    if not message.strip():
        raise InvalidInput(f"{field}: the message is empty")
    if len(message) > limit:
        raise InvalidInput(f"{field}: {len(message)} characters is over the limit of {limit}")


def chat_body(body: ChatIn, settings: SettingsDep) -> ChatIn:
    _check_message(body.message, settings)
    return body


def query_body(body: QueryIn, settings: SettingsDep) -> QueryIn:
    _check_message(body.message, settings)
    return body


def assist_body(body: AssistIn, settings: SettingsDep) -> AssistIn:
    _check_message(body.message, settings)
    if len(body.history) > settings.MAX_HISTORY_MESSAGES:
        raise InvalidInput(
            f"history: {len(body.history)} messages is over the limit of "
            f"{settings.MAX_HISTORY_MESSAGES}; paste the most recent ones"
        )
    for i, turn in enumerate(body.history):
        _check_message(turn.content, settings, f"history.{i}.content")
    return body


ChatBody = Annotated[ChatIn, Depends(chat_body)]
QueryBody = Annotated[QueryIn, Depends(query_body)]
AssistBody = Annotated[AssistIn, Depends(assist_body)]


def assist_user(key_id: AssistKey) -> str:
    """Assist threads belong to the agent key that started them."""
    return f"assist:{key_id}"


AssistUser = Annotated[str, Depends(assist_user)]


async def owned_chat(body: ChatBody, client: ClientId, agent: AgentDep) -> ChatIn:
    """Refuse to resume a thread the caller does not own (403) or that does not exist (404)."""
    if body.thread_id:
        await agent.history(body.thread_id, client)
    return body


async def owned_assist(body: AssistBody, user: AssistUser, agent: AgentDep) -> AssistIn:
    if body.thread_id:
        await agent.history(body.thread_id, user)
    return body


OwnedChat = Annotated[ChatIn, Depends(owned_chat)]
OwnedAssist = Annotated[AssistIn, Depends(owned_assist)]


def request_started(request: Request) -> float:
    """When the request arrived (set by the metrics middleware), for time-to-first-event."""
    return float(getattr(request.state, "started", None) or time.perf_counter())


Started = Annotated[float, Depends(request_started)]
