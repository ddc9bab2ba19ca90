"""Typed dependencies: the app's long-lived objects, caller identity, API keys, limits.

Guards live here (not repeated in routes): the rate limit, the API-key checks, the message and
history limits, and the thread-owner check before a thread is resumed.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from ag_ui.core import RunAgentInput
from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from agents import ShoppingAgent
from app.api.schemas import THREAD_ID_PATTERN, AssistIn, ChatIn, QueryIn, UIChatIn
from app.runtime import Runtime
from app.settings import Settings, hash_key
from app.wiring import Services
from catalog import Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized, UnknownTenant
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


def client_id(response: Response, x_client_id: ClientIdHeader = None) -> str:
    """The caller's id, echoed in the response (minted when absent) so it can keep it."""
    client = x_client_id or f"anon-{uuid.uuid4().hex}"
    response.headers["X-Client-Id"] = client
    return client


ClientId = Annotated[str, Depends(client_id)]

def _key_in(request: Request) -> str | None:
    """The key a request carries (Bearer or X-API-Key), read without declaring a scheme."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


def rate_limit(request: Request, rt: RuntimeDep) -> None:
    """One bucket per caller: its API key, else its client id, else its address."""
    key = _key_in(request)
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


def check_key(scope: KeyScope, key: str | None, settings: Settings) -> str:
    """The key's id when it may call ``scope``; 401 without a valid key, 403 for a valid key
    of the other scope (known, not allowed)."""
    scopes = {
        "assist": settings.ASSIST_API_KEY_HASHES,
        "ingest": settings.INGEST_API_KEY_HASHES,
    }
    if not scopes[scope]:
        raise Unauthorized(
            f"no {scope} keys are configured on this server: run `shopkeeper keys new --kind "
            f"{scope}`, put the hash it prints in SHOPKEEPER_{scope.upper()}_API_KEY_HASHES "
            "(a JSON list) and restart; then send the key it printed"
        )
    if not key:
        raise Unauthorized(
            f"an {scope} API key is required: send `Authorization: Bearer <key>` "
            "or `X-API-Key: <key>`"
        )
    digest = hash_key(key)
    if _known(digest, scopes[scope]):
        return digest[:12]
    other = "ingest" if scope == "assist" else "assist"
    if _known(digest, scopes[other]):
        raise Forbidden(f"this key is an {other} key; it may not call {scope} endpoints")
    raise Unauthorized(f"the {scope} API key is not valid")


# One pair of schemes per key kind, so the OpenAPI document says which key a route needs.
_assist_bearer = HTTPBearer(auto_error=False, scheme_name="AssistBearer",
                            description="An assist key as `Authorization: Bearer <key>`")
_assist_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="AssistKey",
                              description="An assist key as `X-API-Key: <key>`")
_ingest_bearer = HTTPBearer(auto_error=False, scheme_name="IngestBearer",
                            description="An ingest key as `Authorization: Bearer <key>`")
_ingest_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="IngestKey",
                              description="An ingest key as `X-API-Key: <key>`")
Bearer = HTTPAuthorizationCredentials | None


def assist_key(creds: Annotated[Bearer, Depends(_assist_bearer)],
               header: Annotated[str | None, Depends(_assist_header)],
               settings: SettingsDep) -> str:
    """The assist key's id (checked again here; ``key_first`` routes checked it already)."""
    return check_key("assist", creds.credentials if creds else header, settings)


def ingest_key(creds: Annotated[Bearer, Depends(_ingest_bearer)],
               header: Annotated[str | None, Depends(_ingest_header)],
               settings: SettingsDep) -> str:
    return check_key("ingest", creds.credentials if creds else header, settings)


def key_first(scope: KeyScope) -> type[APIRoute]:
    """A route class that checks the API key before the body is read or validated, so a
    caller without a key learns only that it needs one (401), never what its body got wrong,
    and an unauthenticated upload is refused before it is read."""

    class KeyFirstRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                check_key(scope, _key_in(request), get_runtime(request).settings)
                return await handler(request)

            return guarded

    return KeyFirstRoute


AssistKey = Annotated[str, Depends(assist_key)]
IngestKey = Annotated[str, Depends(ingest_key)]


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


async def check_tenant(tenant: str | None, rt: Runtime) -> None:
    """A named shop must have a catalog here (404), so a typo in ``tenant`` is not answered
    "couldn't find anything"; the configured default always passes."""
    if tenant is None or tenant == rt.settings.TENANT:
        return
    if tenant not in await rt.services.sor.tenants():
        raise UnknownTenant("tenant: this server has no catalog for that shop")


async def known_query(body: QueryBody, rt: RuntimeDep) -> QueryIn:
    await check_tenant(body.tenant, rt)
    return body


KnownQuery = Annotated[QueryIn, Depends(known_query)]


async def owned_chat(body: ChatBody, client: ClientId, agent: AgentDep,
                     rt: RuntimeDep) -> ChatIn:
    """Refuse to resume a thread the caller does not own (403) or that does not exist (404)."""
    await check_tenant(body.tenant, rt)
    if body.thread_id:
        await agent.history(body.thread_id, client)
    return body


async def owned_assist(body: AssistBody, user: AssistUser, agent: AgentDep,
                       rt: RuntimeDep) -> AssistIn:
    await check_tenant(body.tenant, rt)
    if body.thread_id:
        await agent.history(body.thread_id, user)
    return body


OwnedChat = Annotated[ChatIn, Depends(owned_chat)]
OwnedAssist = Annotated[AssistIn, Depends(owned_assist)]


# -- the standard protocols' turns ---------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolTurn:
    """One turn read from a protocol's whole-conversation body: only its last user message."""

    thread_id: str
    message: str
    tenant: str | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    """Earlier turns, as context for a thread that starts here (assist mode only)."""

    run_id: str = ""
    """AG-UI's run id, echoed in its run events."""


async def _resume_or_start(agent: ShoppingAgent, thread_id: str, owner: str,
                           replied: bool) -> bool:
    """Protocols name the thread themselves: an unknown id starts it (True), unless the body
    shows earlier replies, which a thread we never had cannot have (404); another's is 403."""
    try:
        await agent.history(thread_id, owner)
    except NotFound:
        if replied:
            raise NotFound("no such conversation; start a new chat") from None
        return True
    return False


def _last_user_text(role: str, texts: list[str], settings: Settings, where: str) -> str:
    if role != "user":
        raise InvalidInput(f"{where}: the last message must be the user's")
    message = "\n".join(t for t in texts if t)
    _check_message(message, settings, where)
    return message


async def ui_turn(body: UIChatIn, client: ClientId, agent: AgentDep,
                  rt: RuntimeDep) -> ProtocolTurn:
    """The AI SDK's chat id is our thread id; the caller's X-Client-Id must own it."""
    settings = rt.settings
    await check_tenant(body.tenant, rt)
    last = body.messages[-1]
    message = _last_user_text(last.role, [p.text or "" for p in last.parts if p.type == "text"],
                              settings, f"messages.{len(body.messages) - 1}")
    replied = any(m.role == "assistant" for m in body.messages)
    await _resume_or_start(agent, body.id, client, replied)
    return ProtocolTurn(thread_id=body.id, message=message, tenant=body.tenant)


def _agui_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(getattr(p, "text", "") or "" for p in content or [])


async def agui_turn(body: RunAgentInput, user: AssistUser, agent: AgentDep,
                    rt: RuntimeDep) -> ProtocolTurn:
    """AG-UI's threadId is our (assist) thread. A new thread takes the earlier messages as the
    pasted conversation, within ``/v1/assist``'s limits; a client whose state is our snapshot
    of this thread has had a reply in it, so an unknown thread is then a 404."""
    settings = rt.settings
    if not body.messages:
        raise InvalidInput("messages: send at least the user's message")
    if not re.fullmatch(THREAD_ID_PATTERN, body.thread_id):
        raise InvalidInput("threadId: 1 to 128 letters, digits, '-' or '_'")
    if not 0 < len(body.run_id) <= 128:
        raise InvalidInput("runId: 1 to 128 characters")
    last = body.messages[-1]
    message = _last_user_text(last.role, [_agui_text(getattr(last, "content", ""))], settings,
                              f"messages.{len(body.messages) - 1}")
    earlier = [m for m in body.messages[:-1] if m.role in ("user", "assistant")]
    state = body.state if isinstance(body.state, dict) else {}
    new = await _resume_or_start(agent, body.thread_id, user,
                                 state.get("thread_id") == body.thread_id)
    history = [{"role": m.role, "content": _agui_text(getattr(m, "content", ""))}
               for m in earlier] if new else []
    if len(history) > settings.MAX_HISTORY_MESSAGES:
        raise InvalidInput(f"messages: {len(history)} earlier messages is over the limit of "
                           f"{settings.MAX_HISTORY_MESSAGES}; send the most recent ones")
    for i, turn in enumerate(history):
        _check_message(turn["content"], settings, f"messages.{i}.content")
    props = body.forwarded_props if isinstance(body.forwarded_props, dict) else {}
    tenant = props.get("tenant")
    if tenant is not None and not (isinstance(tenant, str) and 0 < len(tenant) <= 64):
        raise InvalidInput("forwardedProps.tenant: a shop id of 1 to 64 characters")
    await check_tenant(tenant, rt)
    return ProtocolTurn(thread_id=body.thread_id, message=message, tenant=tenant,
                        history=history, run_id=body.run_id)


UITurn = Annotated[ProtocolTurn, Depends(ui_turn)]
AgUiTurn = Annotated[ProtocolTurn, Depends(agui_turn)]


def request_started(request: Request) -> float:
    """When the request arrived (set by the metrics middleware), for time-to-first-event."""
    return float(getattr(request.state, "started", None) or time.perf_counter())


Started = Annotated[float, Depends(request_started)]
