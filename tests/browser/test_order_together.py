"""Two phones at one table and a kitchen screen, in real Chromium against a real daphne."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import live

pytestmark = pytest.mark.browser


def test_two_phones_fill_one_cart_and_the_kitchen_sees_the_order(
    server, phone, staff_screen, cook, table, menu
):
    kitchen = staff_screen(server, "cook", "pw-cook", "/kitchen/")
    a, b = phone(), phone()
    for page in (a, b):
        page.goto(f"{server.url}/t/{table.token}/")
    for page in (a, b, kitchen):
        live(page)

    # Phone A adds a dish; phone B sees it in the shared cart without reloading.
    a.locator(f"#dish-{menu['cucumber'].pk} .quick-add button").click()
    expect(b.locator("#cart")).to_contain_text("拍黄瓜")
    expect(b.locator("#cart-bar")).to_contain_text("¥12")

    # Phone B adds a dish with a required spice level and an extra, then submits.
    b.locator(f"#dish-{menu['chicken'].pk} .choose-link").click()
    chosen = b.locator(f"#dish-{menu['chicken'].pk} form")
    chosen.get_by_label("特辣").check()
    chosen.get_by_label("加花生").check()
    chosen.locator("button.primary").click()
    expect(a.locator("#cart")).to_contain_text("宫保鸡丁")
    expect(a.locator("#cart-bar")).to_contain_text("¥53")  # 12 + 38 + 3, priced by the server

    b.locator("#cart-sheet > summary").click()
    b.locator("#cart input[name=guests]").fill("2")
    b.locator("#cart button.primary").click()

    # The kitchen screen shows the ticket without reloading; both phones see the tab.
    ticket = kitchen.locator("#tickets .ticket")
    expect(ticket).to_have_count(1)
    expect(ticket).to_contain_text("A1")
    expect(ticket).to_contain_text("拍黄瓜")
    expect(ticket).to_contain_text("宫保鸡丁")
    expect(ticket).to_contain_text("特辣")
    for page in (a, b):
        expect(page.locator("#tab")).to_contain_text("宫保鸡丁")
        expect(page.locator("#cart")).not_to_contain_text("拍黄瓜")

    # The kitchen starts the dish, then marks it ready; the phones see each step live.
    line = kitchen.locator("#tickets .line", has_text="拍黄瓜")
    line.locator("button.bump").click()
    expect(a.locator("#tab .line", has_text="拍黄瓜")).to_have_class("line status-cooking")
    line.locator("button.bump").click()
    expect(a.locator("#tab .line", has_text="拍黄瓜")).to_have_class("line status-ready")

    for page in (a, b, kitchen):
        assert page.evaluate("window.__notReloaded") is True
