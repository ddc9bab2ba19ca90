"""The widget and the assist panel in real headless Chromium against a real server on loopback.

Debian's chromium (``/usr/bin/chromium``; ``scripts/services-up`` installs it) driven by Python
playwright. The server is the real app on a private copy of the demo subset. Prices on screen
are compared with the system of record, before and after the test changes one in the SoR.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from catalog.models import Money
from tests.http_support import ASSIST_KEY, LiveServer, fresh_copy, http_settings, live_server

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SKU = "122442"  # "HP USB Optical 3-button Mouse"
ASSIST_SKU = "2095708"  # "HP KY619AA mouse USB Type-A Optical": the assist panel's top pick
QUESTION = "HP USB Optical 3-button Mouse"
TIMEOUT_MS = 30_000


def sor_call(settings: Settings, method: str, *args: Any) -> Any:
    """Call the SoR from outside the server, as another program writing the catalog would."""
    from catalog.sor.base import open_sor

    async def run() -> Any:
        sor = open_sor(settings.sor_url)
        await sor.open()
        try:
            return await getattr(sor, method)(*args)
        finally:
            await sor.close()

    # In a thread: playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def live_price(settings: Settings, sku: str = SKU) -> str:
    """What the shopper should see: the SoR's price, formatted the way cards show it."""
    offer = sor_call(settings, "get_offers", "demo", [sku])[sku]
    return str(offer.price)


@pytest.fixture
def server(demo_data: Path, tmp_path: Path, embedder: Any) -> Iterator[tuple[LiveServer, Settings]]:
    settings = http_settings(fresh_copy(demo_data, tmp_path / "data"))
    with live_server(settings, embedder) as srv:
        yield srv, settings


@pytest.fixture
def page() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context()
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def ask(page: Any, question: str) -> Any:
    """Type into the widget, press Enter, wait for the answer to finish; returns its bubble."""
    from playwright.sync_api import expect

    widget = page.locator("#shopkeeper-widget")
    answers_before = widget.locator(".msg.bot").count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    expect(widget.locator(".msg.user").last).to_have_text(question)
    expect(widget.locator(".msg.bot")).to_have_count(answers_before + 1)
    expect(widget.locator(".step")).to_have_count(0)  # the stream reached done
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    return widget.locator(".msg.bot").last


def test_widget_streams_live_prices_and_follows_a_price_change(server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    srv, settings = server
    page.goto(srv.url + "/")
    expect(page.get_by_text(
        "Product data: Open Icecat (icecat.biz), provided AS IS, without warranty")).to_be_visible()
    expect(page.get_by_text("stock figures are synthetic")).to_be_visible()

    launcher = page.get_by_role("button", name="Ask the shop")
    launcher.click()
    expect(page.get_by_role("dialog", name="Shop assistant")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()

    bubble = ask(page, QUESTION)
    expect(bubble).to_contain_text("HP USB Optical 3-button Mouse")
    card = page.locator(f'#shopkeeper-widget article.card[data-sku="{SKU}"]').last
    expect(card).to_be_visible()
    first_price = live_price(settings)
    expect(card.locator(".price")).to_have_text(first_price)
    expect(card.locator(".badge")).to_contain_text("stock")
    expect(card).to_contain_text("stock is synthetic")
    expect(bubble).to_contain_text(first_price)

    # Another program changes the price in the SoR; the next answer shows the new one.
    new = Money(amount=Decimal("12.34"), currency="USD")
    assert sor_call(settings, "set_price", "demo", SKU, new)
    assert live_price(settings) == "$12.34" != first_price
    bubble = ask(page, QUESTION)
    card = page.locator(f'#shopkeeper-widget article.card[data-sku="{SKU}"]').last
    expect(card.locator(".price")).to_have_text("$12.34")
    expect(bubble).to_contain_text("$12.34")

    # The thread survives a page load: the earlier messages come back when the widget opens.
    page.reload()
    page.get_by_role("button", name="Ask the shop").click()
    expect(page.locator("#shopkeeper-widget .msg.user")).to_have_count(2)

    # Keyboard: Escape closes the panel and gives focus back to the launcher.
    page.get_by_label("Your question").press("Escape")
    expect(page.get_by_role("dialog", name="Shop assistant")).to_be_hidden()
    expect(page.get_by_role("button", name="Ask the shop")).to_be_focused()


def test_assist_panel_streams_a_reply_with_live_evidence_and_a_trace(
    server: Any, page: Any
) -> None:
    from playwright.sync_api import expect

    srv, settings = server
    page.goto(srv.url + "/assist")
    page.get_by_label("Agent API key").fill(ASSIST_KEY)
    page.get_by_label("Conversation so far").fill(
        "Customer: Hi, I need a mouse for the office\nAgent: Happy to help: wired or wireless?")
    latest = page.get_by_label("Customer's latest message")
    latest.fill("Wired USB. Is the HP optical one in stock?")
    page.get_by_role("button", name="Suggest reply").click()

    expect(page.locator("#reply")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#reply")).not_to_be_empty()
    expect(page.get_by_role("button", name="Copy reply")).to_be_enabled()
    row = page.locator(f'#evidence tbody tr[data-sku="{ASSIST_SKU}"]')
    expect(row).to_be_visible()
    expect(row.locator("td.price")).to_have_text(live_price(settings, ASSIST_SKU))
    offer = sor_call(settings, "get_offers", "demo", [ASSIST_SKU])[ASSIST_SKU]
    for warehouse, qty in offer.stock.warehouses.items():
        expect(row).to_contain_text(f"{warehouse}: {qty}")
    expect(page.locator("#trace li").first).to_contain_text("understand")
    assert page.locator("#trace li").count() >= 4
