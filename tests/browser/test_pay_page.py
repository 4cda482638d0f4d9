"""Issue 12.2 and 12.5: the diner's pay page, in Chromium at phone size."""

import pytest
from playwright.sync_api import expect

from payments.models import Payment
from tests.browser.pages import live
from tests.payments.conftest import seat

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.SANDBOX_GATEWAY = True
    settings.SANDBOX_GATEWAY_SECRET = "test-sandbox-secret"


def test_a_table_of_one_pays_the_whole_bill_by_qr(server, phone, table, menu):
    seat(table, menu, guests=1)
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)

    page.locator("#pay-form button.primary").click()

    expect(page.locator(".payment-box")).to_have_attribute("data-status", "pending")
    assert Payment.objects.get().amount == 50


def _pay_by_qr(page, server, table):
    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)
    page.locator("#pay-form button.primary").click()
    box = page.locator("#pay-box .payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    return box


def test_a_pending_payment_stays_after_a_reload_everyone_sees_it_only_its_starter_cancels(
    server, phone, table, menu
):
    seat(table, menu)
    a, b = phone(), phone()
    for page in (a, b):
        page.goto(f"{server.url}/t/{table.token}/")  # each phone is a diner at the table
    _pay_by_qr(a, server, table)

    a.reload()
    live(a)
    box = a.locator("#pay-box .payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    expect(box.locator("svg")).to_be_visible()
    expect(a.locator("#pay-bill .pending")).to_contain_text("一号")
    expect(a.locator("#pay-bill .pending")).to_contain_text("¥50")

    b.goto(f"{server.url}/t/{table.token}/pay/")
    live(b)
    pending = b.locator("#pay-bill .pending")
    expect(pending).to_contain_text("一号")
    expect(pending).to_contain_text("¥50")
    expect(b.locator("#pay-box")).not_to_contain_text("取消")

    box.get_by_role("button", name="取消").click()
    expect(box).to_have_attribute("data-status", "cancelled")
    expect(b.locator("#pay-bill .pending")).to_have_count(0)
    assert b.evaluate("window.__notReloaded") is True


def test_a_given_up_payment_does_not_ask_to_try_again_once_someone_paid_the_bill(
    server, phone, table, menu
):
    seat(table, menu)
    a, b = phone(), phone()
    for page in (a, b):
        page.goto(f"{server.url}/t/{table.token}/")
    box = _pay_by_qr(a, server, table)
    box.get_by_role("button", name="取消").click()
    expect(box).to_contain_text("重试")

    code_url = _pay_by_qr(b, server, table).locator("a.button").get_attribute("href")
    wallet = b.context.new_page()
    wallet.goto(code_url)
    wallet.locator("button[value=approve]").click()
    expect(wallet.locator("#sandbox-done")).to_be_visible()

    expect(a.locator("#pay-due")).to_have_text("¥0")
    expect(a.locator(".paid-up")).to_be_visible()
    expect(a.locator("#pay-box")).not_to_contain_text("重试")
    assert a.evaluate("window.__notReloaded") is True
