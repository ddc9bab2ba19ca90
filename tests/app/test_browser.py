"""The widget and the assist panel in real headless Chromium against a real server on loopback.

Cards: a lazily loaded picture (a placeholder when it fails, as offline), the title linking to
the product page, and "Add to cart" dispatching ``shopkeeper:add-to-cart`` to the host page.

Debian's chromium (``/usr/bin/chromium``; ``scripts/services-up`` installs it) driven by Python
playwright. The server is the real app on a private copy of the demo subset. Prices on screen
are compared with the system of record, before and after the test changes one in the SoR.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from catalog.models import Money
from tests.http_support import (
    ASSIST_KEY,
    LiveServer,
    fresh_copy,
    http_settings,
    live_server,
    sor_call,
)

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SKU = "122442"  # "HP USB Optical 3-button Mouse"
ASSIST_SKU = "2095708"  # "HP KY619AA mouse USB Type-A Optical": the assist panel's top pick
QUESTION = "HP USB Optical 3-button Mouse"
TIMEOUT_MS = 30_000
TEMPLATE = "https://shop.example/p/{sku}"
# A 1x1 PNG, served in place of the catalog's pictures (the machine is offline).
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360f8cfc0f01f0005fe02fea7d6a4"
                      "310000000049454e44ae426082")


def live_price(settings: Settings, sku: str = SKU) -> str:
    """What the shopper should see: the SoR's price, formatted the way cards show it."""
    offer = sor_call(settings, "get_offers", "demo", [sku])[sku]
    return str(offer.price)


@pytest.fixture
def server(demo_data: Path, tmp_path: Path, embedder: Any) -> Iterator[tuple[LiveServer, Settings]]:
    settings = http_settings(fresh_copy(demo_data, tmp_path / "data"),
                             PRODUCT_URL_TEMPLATE=TEMPLATE)
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


def test_cards_show_a_picture_a_page_link_and_add_to_cart_tells_the_host_page(
    server: Any, page: Any
) -> None:
    from playwright.sync_api import expect

    srv, settings = server
    page.route("**/images.icecat.biz/**", lambda route: route.fulfill(
        status=200, content_type="image/png", body=PIXEL))
    page.goto(srv.url + "/")
    page.evaluate("""() => document.addEventListener("shopkeeper:add-to-cart",
        e => { window.cartEvents = (window.cartEvents || []).concat([e.detail]); })""")
    page.get_by_role("button", name="Ask the shop").click()
    ask(page, QUESTION)
    card = page.locator(f'#shopkeeper-widget article.card[data-sku="{SKU}"]').last
    picture = card.locator("img.pic")
    expect(picture).to_have_attribute("loading", "lazy")
    expect(picture).to_have_attribute("alt", "HP USB Optical 3-button Mouse")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=picture.element_handle())
    link = card.get_by_role("link", name="HP USB Optical 3-button Mouse")
    expect(link).to_have_attribute("href", TEMPLATE.format(sku=SKU))

    card.get_by_role("button", name="Add HP USB Optical 3-button Mouse to cart").click()
    page.wait_for_function("() => (window.cartEvents || []).length === 1")
    offer = sor_call(settings, "get_offers", "demo", [SKU])[SKU]
    assert page.evaluate("() => window.cartEvents[0]") == {
        "sku": SKU, "quantity": 1, "price": str(offer.price.amount), "currency": "USD"}
    expect(page.get_by_role("status").filter(has_text="Cart:")).to_contain_text("1 item")


def test_a_picture_that_cannot_load_becomes_a_placeholder(server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    srv, _ = server
    page.route("**/images.icecat.biz/**", lambda route: route.abort())  # as offline
    page.goto(srv.url + "/")
    page.get_by_role("button", name="Ask the shop").click()
    ask(page, QUESTION)
    card = page.locator(f'#shopkeeper-widget article.card[data-sku="{SKU}"]').last
    placeholder = card.get_by_role("img", name="No picture of HP USB Optical 3-button Mouse")
    expect(placeholder).to_be_visible()
    expect(card.locator("img")).to_have_count(0)


def test_api_docs_render_with_the_network_off(page: Any, tmp_path: Path) -> None:
    """/docs is Swagger UI from a package: with every non-loopback request blocked it still
    renders the API's title and its operations (no CDN)."""
    from playwright.sync_api import expect

    from app.main import create_app

    server = LiveServer(create_app(Settings(DATA_DIR=tmp_path)))
    server.server.config.lifespan = "off"  # the docs need the spec only, not the runtime
    server.start()
    outside: list[str] = []

    def loopback_only(route: Any) -> None:
        if route.request.url.startswith(server.url + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    try:
        page.route("**/*", loopback_only)
        page.goto(server.url + "/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Shopkeeper")
        expect(page.locator(".opblock-summary-path", has_text="/v1/chat/stream")).to_be_visible()
        assert outside == [], "the page asked the network for something"
    finally:
        server.stop()
