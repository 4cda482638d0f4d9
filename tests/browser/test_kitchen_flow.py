"""A dish's whole life in real Chromium: a diner orders, the station cooks, the pass serves;
a hurry and a void reach the right screens, and nobody reloads a page."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import live

pytestmark = pytest.mark.browser


def test_a_dish_goes_from_the_phone_through_the_station_and_the_pass(
    server, phone, staff_screen, cook, cashier, table, menu
):
    diner = phone()
    diner.goto(f"{server.url}/t/{table.token}/")
    cold = staff_screen(server, "cook", "pw-cook", "/kitchen/cold/")
    hot = staff_screen(server, "cook", "pw-cook", "/kitchen/hot/")
    runner = staff_screen(server, "cook", "pw-cook", "/kitchen/pass/")
    waiter = staff_screen(server, "cashier", "pw-cashier", f"/t/{table.token}/")
    for page in (diner, cold, hot, runner, waiter):
        live(page)

    diner.locator(f"#dish-{menu['cucumber'].pk} .quick-add button").click()
    diner.locator(f"#dish-{menu['fish'].pk} .quick-add button").click()
    diner.locator(f"#dish-{menu['chicken'].pk} .choose-link").click()
    diner.locator(f"#dish-{menu['chicken'].pk} form button.primary").click()
    expect(diner.locator("#cart-bar")).to_contain_text("¥138")
    diner.locator("#cart-sheet > summary").click()
    diner.locator("#cart input[name=guests]").fill("3")
    diner.locator("#cart button.primary").click()

    # Each station sees only its own dishes.
    expect(cold.locator("#tickets .ticket")).to_contain_text("拍黄瓜")
    expect(cold.locator("#tickets")).not_to_contain_text("清蒸鲈鱼")
    expect(hot.locator("#tickets .ticket")).to_contain_text("清蒸鲈鱼")

    # The diner hurries the cucumber: the cold station flags it at once.
    diner.locator("#cart-sheet > summary").click()  # close the sheet
    diner.locator("#tab .line", has_text="拍黄瓜").locator(".urge button").click()
    expect(cold.locator("#tickets .line", has_text="拍黄瓜")).to_contain_text("×1")
    expect(cold.locator("#tickets .line", has_text="拍黄瓜")).to_have_class(
        "line status-queued is-urged"
    )

    # Start, ready, served: the phone follows every step.
    cucumber_on_phone = diner.locator("#tab .line", has_text="拍黄瓜")
    cold.locator("#tickets .line", has_text="拍黄瓜").locator("button.bump").click()
    expect(cucumber_on_phone).to_have_class("line status-cooking")
    cold.locator("#tickets .line", has_text="拍黄瓜").locator("button.bump").click()
    expect(cucumber_on_phone).to_have_class("line status-ready")
    expect(cold.locator("#tickets .ticket")).to_have_count(0)
    expect(runner.locator("#pass-board .pass-table")).to_contain_text("拍黄瓜")
    runner.locator("#pass-board .line", has_text="拍黄瓜").locator("button.bump").click()
    expect(cucumber_on_phone).to_have_class("line status-served")
    expect(runner.locator("#pass-board .pass-table")).to_have_count(0)

    # The waiter voids the chicken with a reason: struck through on the hot station at once,
    # and the diner's total drops.
    chicken_row = waiter.locator("#tab .line", has_text="宫保鸡丁")
    chicken_row.locator("input[name=reason]").fill("客人不要了")
    chicken_row.locator(".staff-void button").click()
    expect(hot.locator("#tickets .line", has_text="宫保鸡丁")).to_have_class("line status-voided")
    expect(hot.locator("#tickets .line", has_text="清蒸鲈鱼")).to_have_class("line status-queued")
    expect(diner.locator("#tab .line", has_text="宫保鸡丁")).to_have_class("line status-voided")
    expect(diner.locator("#tab .total")).to_contain_text("¥100")

    for page in (diner, cold, hot, runner, waiter):
        assert page.evaluate("window.__notReloaded") is True
