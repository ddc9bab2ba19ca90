"""The shopper scenario suite on the full demo catalog: pass rate per class, judged on the SoR.

Run once per module through ``tests.agents.shopper_harness`` (the real agent, grounded
responder). Set ``SHOPKEEPER_SCENARIO_DIR`` to a data dir that already holds the ingested demo
(``python -m tests.agents.shopper_harness --data-dir DIR`` makes one) to skip the ~6 minute
ingest; otherwise the demo is ingested into a temp dir first.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from tests.agents.shopper_harness import Report, ingest, is_ingested, run
from tests.agents.shopper_questions import QUESTIONS

pytestmark = [pytest.mark.slow, pytest.mark.model]

# The overall pass rate main reaches, less a margin: 23% (30/129) before issue 9's features,
# 67% (86/129) with product types, typo correction, units, index-sorted cheapest and store
# pages. It is raised as answers improve and never goes down.
FLOOR = 0.62
# Share of "we don't carry that" questions answered with no card: 1 of 10 before issue 9, 4 of
# 10 now (a doll's dress still answers "wedding dress"). The goal is 1.0.
NOT_CARRIED_FLOOR = 0.3


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Report:
    """Every demo question asked and judged once for the module."""
    given = os.environ.get("SHOPKEEPER_SCENARIO_DIR")
    data_dir = Path(given) if given else tmp_path_factory.mktemp("shopper-demo")
    if not is_ingested(data_dir):
        ingest(data_dir, None, "demo", None, embedder=embedder)
    result = asyncio.run(run(data_dir, QUESTIONS, "demo", embedder=embedder))
    print(result.summary())
    return result


def test_suite_covers_every_class() -> None:
    """At least 100 questions in at least 9 classes, none asked twice."""
    classes = {q.cls for q in QUESTIONS}
    assert len(QUESTIONS) >= 100 and len(classes) >= 9, (len(QUESTIONS), classes)
    assert len({q.text.lower() for q in QUESTIONS}) == len(QUESTIONS)


def test_pass_rate_does_not_fall(report: Report) -> None:
    assert report.rate >= FLOOR, f"{report.summary()}\n{report.failure_lines()}"


def test_no_card_is_invented(report: Report) -> None:
    """Every card shown, for any question, is a SKU the SoR holds at the price it holds."""
    bad = [(r.q.text, reason) for r in report.results for reason in r.reasons
           if "not in the SoR" in reason or "!= SoR" in reason]
    assert not bad, bad


def test_not_carried_shows_no_card(report: Report) -> None:
    """Questions about things the shop does not sell get no card (the share never falls)."""
    results = [r for r in report.results if r.q.cls == "not_carried"]
    clean = [r for r in results if not r.cards]
    assert results and len(clean) / len(results) >= NOT_CARRIED_FLOOR, \
        [(r.q.text, [c["title"] for c in r.cards]) for r in results if r.cards]
