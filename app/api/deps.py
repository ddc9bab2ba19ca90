"""Typed dependencies: the app's long-lived objects, caller identity, API keys, limits.

Guards live here (not repeated in routes): the rate limit, the API-key checks, the message and
history limits, and the thread-owner check before a thread is resumed.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from ag_ui.core import RunAgentInput
from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from agents import ShoppingAgent
from app.api.schemas import THREAD_ID_PATTERN, AssistIn, ChatIn, QueryIn, UIChatIn
from app.runtime import Runtime
from app.settings import Settings, hash_key
from app.wiring import Services
from catalog import Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized
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
            raise NotFound(f"no conversation {thread_id!r}; start a new chat") from None
        return True
    return False


def _last_user_text(role: str, texts: list[str], settings: Settings, where: str) -> str:
    if role != "user":
        raise InvalidInput(f"{where}: the last message must be the user's, not {role!r}")
    message = "\n".join(t for t in texts if t)
    _check_message(message, settings, where)
    return message


async def ui_turn(body: UIChatIn, client: ClientId, agent: AgentDep,
                  settings: SettingsDep) -> ProtocolTurn:
    """The AI SDK's chat id is our thread id; the caller's X-Client-Id must own it."""
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
                    settings: SettingsDep) -> ProtocolTurn:
    """AG-UI's threadId is our (assist) thread. A new thread takes the earlier messages as the
    pasted conversation, within ``/v1/assist``'s limits; a client whose state is our snapshot
    of this thread has had a reply in it, so an unknown thread is then a 404."""
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
    return ProtocolTurn(thread_id=body.thread_id, message=message, tenant=tenant,
                        history=history, run_id=body.run_id)


UITurn = Annotated[ProtocolTurn, Depends(ui_turn)]
AgUiTurn = Annotated[ProtocolTurn, Depends(agui_turn)]


def request_started(request: Request) -> float:
    """When the request arrived (set by the metrics middleware), for time-to-first-event."""
    return float(getattr(request.state, "started", None) or time.perf_counter())


Started = Annotated[float, Depends(request_started)]
