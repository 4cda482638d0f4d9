"""A diner pays half by the sandbox QR, the cashier takes the rest in cash, both screens update
live; then a dish is voided and the refund shows on both. Real Chromium, a real daphne, and
the sandbox gateway's notification travelling over HTTP."""

import pytest
from playwright.sync_api import expect

from payments.models import Payment, Refund
from tests.browser.pages import live

from .conftest import seat

pytestmark = pytest.mark.browser


def test_half_by_qr_the_rest_in_cash_then_a_void_is_refunded_on_both_screens(
    server, phone, staff_screen, cashier, table, menu
):
    tab = seat(table, menu)  # 拍黄瓜 12 + 宫保鸡丁 38 = 50
    counter = staff_screen(server, "cashier", "pw-cashier", "/cashier/")
    diner = phone()
    diner.goto(f"{server.url}/t/{table.token}/pay/")
    for page in (counter, diner):
        live(page)
    expect(counter.locator(f"#table-{table.pk}")).to_have_attribute("data-state", "eating")
    counter.locator(f"#table-{table.pk}").click()
    expect(counter.locator("#bill-due")).to_have_text("¥50")

    # The diner pays an equal share of two by QR, approving in the sandbox "wallet".
    diner.locator("input[name=choice][value=share]").check()
    diner.locator("input[name=people]").fill("2")
    diner.locator("#pay-form button.primary").click()
    box = diner.locator(".payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    expect(box.locator("svg")).to_be_visible()
    code_url = box.locator("a.button").get_attribute("href")
    wallet = diner.context.new_page()
    wallet.goto(code_url)
    expect(wallet.locator("#sandbox-amount")).to_have_text("¥25.00")
    wallet.locator("button[value=approve]").click()
    expect(wallet.locator("#sandbox-done")).to_be_visible()
    wallet.close()

    # The gateway's notification came over HTTP: both screens show it without reloading.
    expect(box).to_have_attribute("data-status", "succeeded")
    expect(diner.locator("#pay-due")).to_have_text("¥25")
    expect(counter.locator("#bill-paid")).to_have_text("¥25")
    expect(counter.locator("#bill-due")).to_have_text("¥25")
    expect(counter.locator(f"#table-{table.pk}")).to_have_attribute("data-state", "paying")

    # The cashier takes the rest in cash: 30 tendered, 5 change.
    counter.locator("#take-payment input[name=amount]").fill("30")
    expect(counter.locator("#change-preview")).to_contain_text("5.00")
    counter.locator("#take-payment button.primary").click()
    expect(counter.locator("#flash")).to_contain_text("¥5")
    expect(counter.locator("#bill-due")).to_have_text("¥0")
    expect(counter.locator(f"#table-{table.pk}")).to_have_attribute("data-state", "settled")
    expect(diner.locator(".paid-up")).to_be_visible()
    expect(diner.locator("#pay-due")).to_have_text("¥0")
    expect(diner.locator("#pay-form")).to_be_hidden()  # nothing left to pay: no way to pay it

    # A dish is taken off (退菜): 12 goes back automatically, from the newest payment (cash).
    row = counter.locator("#bill tr", has_text="拍黄瓜")
    row.locator("summary").click()
    row.locator("form", has=counter.locator("button.danger")).locator("input[name=reason]").fill(
        "太咸"
    )
    row.locator("button.danger").click()
    expect(counter.locator("#bill-refunded")).to_have_text("¥12")
    expect(counter.locator("#bill .refund")).to_contain_text("¥12")
    expect(diner.locator("#pay-refunded")).to_have_text("¥12")
    expect(diner.locator("#pay-total")).to_have_text("¥38")

    refund = Refund.objects.get()
    assert refund.automatic and refund.payment.method == "cash" and refund.status == "succeeded"
    assert Payment.objects.get(method="qr").status == "succeeded"
    for page in (counter, diner):
        assert page.evaluate("window.__notReloaded") is True
    assert tab.pk == refund.payment.tab_id
