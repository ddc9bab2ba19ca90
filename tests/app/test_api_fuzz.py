"""schemathesis over every route with every check: the server does what its OpenAPI says.

Generated bodies, headers and query strings go to a real uvicorn on a private copy of the
demo subset (with the in-process change worker, so the webhook can accept), with a valid
client id and the right key per route, so requests get past auth into the body checks and,
when valid, into the agent itself. Bounded: a few dozen cases per operation and mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.http_support import (
    ASSIST_KEY,
    INGEST_KEY,
    fresh_copy,
    http_settings,
    live_server,
)
from tests.schema_fuzz import api_schema, fuzz

pytestmark = [pytest.mark.model, pytest.mark.slow]

EXAMPLES = 20
# Bodies whose rules JSON Schema cannot state: the AI SDK's and AG-UI's conversations (the
# last message must be the user's, with text), MCP's JSON-RPC envelope, and change events
# ("op price needs a price", the catalog's own field rules).
SEMANTIC = frozenset({"/v1/chat/ui", "/v1/agui", "/mcp", "/v1/catalog/events"})


KEYS = {"AssistBearer": ASSIST_KEY, "AssistKey": ASSIST_KEY,
        "IngestBearer": INGEST_KEY, "IngestKey": INGEST_KEY}


def headers_for(path: str) -> dict[str, str]:
    """MCP wants both media types; the client id and the keys are schemathesis' to send."""
    return {"Accept": "application/json, text/event-stream"}


def test_every_route_agrees_with_its_openapi_document(
    demo_data: Path, tmp_path: Path, embedder: Any
) -> None:
    data = fresh_copy(demo_data, tmp_path / "data")
    with live_server(http_settings(data), embedder) as srv:
        report = fuzz(api_schema(srv.url, keys=KEYS), headers_for, max_examples=EXAMPLES,
                      semantic=SEMANTIC)
    assert not report.failures, "\n".join(report.failures[:20])
    paths = {path for _, path, _ in report.seen}
    assert {"/v1/chat/stream", "/v1/query", "/v1/assist", "/v1/catalog/events", "/mcp",
            "/v1/chat/ui", "/v1/agui", "/healthz"} <= paths
    # Valid cases got through the guards into the agent, not only refusals.
    assert any(status == 200 for _, path, status in report.seen if path == "/v1/query")
