"""schemathesis against a live server: generated requests for chosen routes, never a 5xx.

Reusable: ``api_schema(url, path_regex)`` narrows the server's own OpenAPI document, and
``fuzz(schema, headers)`` sends valid (positive) and invalid (negative) cases for each of its
operations (issue 12 widens the pattern to every route). Cases are drawn from schemathesis'
own strategies with hypothesis directly: its pytest plugin (4.32) reads a pytest-internal
attribute that pytest 9 no longer has.
"""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import BaseSchema, Case, GenerationMode

PROTOCOL_ROUTES = r"^/(v1/chat/ui|v1/agui|mcp)$"
"""The routes of the standard protocols (AI SDK, AG-UI, MCP)."""


def api_schema(base_url: str, path_regex: str) -> BaseSchema:
    """The server's own OpenAPI document, narrowed to ``path_regex``."""
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    schema.config.update(base_url=base_url)
    return schema.include(path_regex=path_regex)


def no_server_error(case: Case, headers: dict[str, str] | None = None) -> int:
    """Send ``case``; any 5xx fails with the request to replay (as curl)."""
    response = case.call(headers=headers, timeout=60)
    assert response.status_code < 500, (
        f"{case.method} {case.path} -> {response.status_code}: {response.text[:400]}\n"
        f"{case.as_curl_command(headers=headers)}")
    return response.status_code


def fuzz(schema: BaseSchema, headers: dict[str, str] | None = None, *,
         max_examples: int = 30) -> Counter[tuple[str, str, int]]:
    """Every operation, positive and negative cases; returns (method, path, status) counts."""
    seen: Counter[tuple[str, str, int]] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the pattern matched no operation"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=max_examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case: Case) -> None:
                seen[(case.method, case.path, no_server_error(case, headers))] += 1

            run()
    return seen
