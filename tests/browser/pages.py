"""Helpers for tests that drive pages in Chromium."""

import os
import shutil

from playwright.sync_api import expect

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Headless on a closed network: without the background-networking flags Chromium keeps trying
# hosts it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def live(page):
    """Wait until the page's socket is connected, and mark the page so that a test can prove
    later that it was never reloaded (`window.__notReloaded`)."""
    expect(page.locator("body")).to_have_attribute("data-live", "1")
    page.evaluate("window.__notReloaded = true")


def order_dishes(page, *dishes, guests=2):
    """Add each dish with its quick + and order the cart from this phone."""
    for dish in dishes:
        page.locator(f"#dish-{dish.pk} .quick-add button").click()
        expect(page.locator("#cart")).to_contain_text(dish.name)
    page.locator("#cart-sheet > summary").click()
    guests_field = page.locator("#cart input[name=guests]")
    if guests_field.count():
        guests_field.fill(str(guests))
    page.locator("#cart button.primary").click()
    expect(page.locator("#tab")).to_contain_text(dishes[-1].name)
