"""schemathesis against a live server: generated requests for every route, every check.

``api_schema(url, path_regex)`` loads the server's own OpenAPI document (narrowed to
``path_regex``), and ``fuzz(schema, headers_for)`` sends valid (positive) and invalid (negative)
cases for each operation and runs all of schemathesis' checks on each response: no 5xx, status
codes, content types, headers and bodies as documented, valid data accepted, invalid data
rejected, auth not ignored. Cases are drawn from schemathesis' own strategies with hypothesis
directly (its pytest plugin, 4.32, reads a pytest-internal attribute pytest 9 no longer has);
failures are collected, not raised, so one run reports every operation that disagrees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import CHECKS, CheckFunction
from schemathesis.config._auth import AuthConfig  # not re-exported; the config file form
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData

PROTOCOL_ROUTES = r"^/(v1/chat/ui|v1/agui|mcp)$"
"""The routes of the standard protocols (AI SDK, AG-UI, MCP)."""

EVERY_ROUTE = r"^/"


def api_schema(base_url: str, path_regex: str = EVERY_ROUTE,
               keys: dict[str, str] | None = None) -> BaseSchema:
    """The server's own OpenAPI document, narrowed to ``path_regex``; ``keys`` maps security
    scheme names to the credential schemathesis should send (and take away, to check that
    auth is enforced)."""
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    schema.config.update(base_url=base_url)
    if keys:
        schemes = schema.raw_schema.get("components", {}).get("securitySchemes", {})
        schema.config.auth = AuthConfig(openapi={
            name: {"bearer": key} if schemes[name].get("type") == "http" else {"api_key": key}
            for name, key in keys.items()})
    return schema.include(path_regex=path_regex)


def all_checks() -> list[CheckFunction]:
    """Every check schemathesis ships (the class-based stateful ones need a recorded run)."""
    return [c for c in CHECKS.get_all() if not isinstance(c, type)]  # type: ignore[misc]


@dataclass
class Report:
    """What a run saw: (method, path, status) counts and each failure's text."""

    seen: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _only_semantic_refusals(exc: FailureGroup) -> bool:
    return all(isinstance(f, RejectedPositiveData) and f.status_code in (400, 422)
               for f in exc.exceptions)


def fuzz(schema: BaseSchema, headers_for: Callable[[str], dict[str, str]], *,
         max_examples: int = 30, semantic: frozenset[str] = frozenset()) -> Report:
    """Every operation, positive and negative cases, all checks; bounded by ``max_examples``
    per operation and mode (no shrinking, no example database).

    ``semantic`` names paths whose bodies have rules JSON Schema cannot say (a protocol's
    "the last message is the user's", an event's "op price needs a price"): a schema-valid
    body refused there with a 400 or 422 (JSON-RPC's "invalid params" is a 400) is not a
    disagreement. Every other check still applies."""
    report = Report()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the pattern matched no operation"
    checks = all_checks()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, headers_for(operation.path), checks, report, max_examples,
                 operation.path in semantic)
    return report


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str],
         checks: list[CheckFunction], report: Report, max_examples: int,
         semantic: bool) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=max_examples, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Case) -> None:
        try:
            response = case.call_and_validate(headers=headers, checks=checks, timeout=60)
        except FailureGroup as exc:
            if not (semantic and _only_semantic_refusals(exc)):
                report.failures.append(f"[{mode.value}] {exc}")
            return
        report.seen[(case.method, case.path, response.status_code)] += 1

    try:
        run()
    except Unsatisfiable:  # nothing to negate (a GET without parameters)
        assert mode is GenerationMode.NEGATIVE, f"no valid case for {operation.label}"
