"""The shopper scenario suite on a small clothing and homeware shop in euros (our fixture).

The same harness and judge as the demo suite, on ``tests/data/homeware_catalog.jsonl`` (54
products, 132 SKUs, EUR) and its store pages ``tests/data/homeware_pages/``: nothing in the
agent may assume electronics or dollars.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.agents.homeware_questions import HOMEWARE_QUESTIONS
from tests.agents.shopper_harness import (
    HOMEWARE_CATALOG,
    HOMEWARE_PAGES,
    HOMEWARE_TENANT,
    Report,
    ingest,
    run,
)

pytestmark = [pytest.mark.slow, pytest.mark.model]

# 12% (4/34) before issue 9's features; 41-53% with them (53% with the shop's pages loaded),
# less a margin. Raised as answers improve; it never goes down.
FLOOR = 0.35


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Report:
    data_dir = tmp_path_factory.mktemp("shopper-homeware")
    ingest(data_dir, HOMEWARE_CATALOG, HOMEWARE_TENANT, HOMEWARE_PAGES, embedder=embedder)
    result = asyncio.run(run(data_dir, HOMEWARE_QUESTIONS, HOMEWARE_TENANT, embedder=embedder))
    print(result.summary())
    return result


def test_fixture_is_a_euro_homeware_shop() -> None:
    """At least 20 questions, and a catalog priced in euros only."""
    from catalog.importers import load_products

    products = load_products(HOMEWARE_CATALOG, tenant=HOMEWARE_TENANT).products
    assert len(HOMEWARE_QUESTIONS) >= 20 and 40 <= len(products) <= 60
    assert {s.price.currency for p in products for s in p.skus} == {"EUR"}


def test_pass_rate_does_not_fall(report: Report) -> None:
    assert report.rate >= FLOOR, f"{report.summary()}\n{report.failure_lines()}"


def test_not_carried_shows_no_card(report: Report) -> None:
    """A laptop or headphones in a homeware shop: no card, ever."""
    shown = [(r.q.text, r.cards) for r in report.results if r.q.cls == "not_carried" and r.cards]
    assert not shown, shown
