"""Issue 12.6: English mode speaks English on the bill, the pay page, the e-receipt and the
staff screens, and every one of them has a language switch."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import live
from tests.payments.conftest import seat

pytestmark = pytest.mark.browser


def test_the_bill_pay_page_and_receipt_name_dishes_and_options_in_english(
    server, phone, table, menu
):
    seat(table, menu)
    page = phone(locale="en-US")
    page.goto(f"{server.url}/t/{table.token}/")
    expect(page.locator("#tab")).to_contain_text("Kung Pao chicken")

    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)
    bill = page.locator("#pay-bill")
    expect(bill).to_contain_text("Smashed cucumber")
    expect(bill).to_contain_text("Kung Pao chicken")
    expect(bill).to_contain_text("Mild")
    expect(bill).not_to_contain_text("宫保鸡丁")

    # The pay page switches language like the menu does, and stays on the pay page.
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#pay-bill")).to_contain_text("宫保鸡丁")
    assert page.url.endswith("/pay/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#pay-bill")).to_contain_text("Kung Pao chicken")

    page.locator("#pay-form button.primary").click()
    code_url = page.locator(".payment-box a.button").get_attribute("href")
    wallet = page.context.new_page()
    wallet.goto(code_url)
    wallet.locator("button[value=approve]").click()
    expect(wallet.locator("#sandbox-done")).to_be_visible()
    receipt = page.locator(".payment-box a.button", has_text="e-receipt")
    receipt.click()
    expect(page.locator("#receipt")).to_contain_text("Kung Pao chicken (Mild)")
    expect(page.locator("#receipt")).not_to_contain_text("拍黄瓜")


def test_staff_screens_switch_language_and_station_names_follow(
    server, staff_screen, cook, cashier, menu
):
    kitchen = staff_screen(server, "cook", "pw-cook", "/kitchen/")
    kitchen.get_by_role("button", name="English").click()
    nav = kitchen.locator(".staff-nav")
    expect(nav).to_contain_text("Hot")
    expect(nav).to_contain_text("Cold")
    expect(nav).not_to_contain_text("热菜")
    expect(kitchen.locator("#stats")).to_contain_text("Hot")

    counter = staff_screen(server, "cashier", "pw-cashier", "/cashier/")
    counter.get_by_role("button", name="English").click()
    expect(counter.locator(".staff-bar h1")).to_have_text("Cashier")
