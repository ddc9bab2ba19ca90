"""schemathesis over the protocol routes (``/v1/chat/ui``, ``/v1/agui``, ``/mcp``): no 5xx.

Generated bodies, headers and query strings go to a real uvicorn on a private copy of the
demo subset, with a valid client id and agent key so requests get past auth into the body
checks and, when valid, into the agent itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.http_support import ASSIST_KEY, CLIENT, fresh_copy, http_settings, live_server
from tests.schema_fuzz import PROTOCOL_ROUTES, api_schema, fuzz

pytestmark = [pytest.mark.model, pytest.mark.slow]

HEADERS = {"X-Client-Id": CLIENT, "X-API-Key": ASSIST_KEY,
           "Accept": "application/json, text/event-stream"}


def test_protocol_routes_never_answer_5xx(
    demo_data: Path, tmp_path: Path, embedder: Any
) -> None:
    data = fresh_copy(demo_data, tmp_path / "data")
    with live_server(http_settings(data, WORKER_MODE="off"), embedder) as srv:
        seen = fuzz(api_schema(srv.url, PROTOCOL_ROUTES), HEADERS, max_examples=30)
    paths = {path for _, path, _ in seen}
    assert paths == {"/v1/chat/ui", "/v1/agui", "/mcp"}
    # Valid cases got through the guards, not only refusals.
    assert any(status == 200 for _, _, status in seen), seen
