"""WeChat Pay H5 on a phone, end to end: real Chromium at phone size with a phone's user agent,
a real daphne configured from the simulator's environment, the simulator's H5 page, and its
signed, encrypted notification travelling over HTTP (twice) to our notify endpoint."""

import time

import pytest
from playwright.sync_api import expect

from orders.models import Tab
from payments.models import LedgerEntry, Payment
from tests.browser.pages import live
from tests.live import Daphne

from .conftest import ledger_sum, seat
from .test_wechatpay import IPHONE

pytestmark = pytest.mark.browser


@pytest.fixture
def wechat_server(transactional_db, settings, tmp_path, wechatpay_sim):
    wechatpay_sim.reset()
    wechatpay_sim.controls(delivery="http", notify_times=2)
    settings.MEDIA_ROOT = tmp_path / "media"
    daphne = Daphne(log_dir=tmp_path, env=wechatpay_sim.env)
    yield daphne
    daphne.stop()


def test_a_phone_pays_by_wechat_h5_and_comes_back_to_a_paid_bill(
    wechat_server,
    wechatpay_sim,
    browser,
    table,
    menu,
):
    tab = seat(table, menu)  # 50
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, is_mobile=True, locale="zh-CN", user_agent=IPHONE
    )
    context.set_default_timeout(10_000)
    diner = context.new_page()
    diner.goto(f"{wechat_server.url}/t/{table.token}/pay/")
    live(diner)
    diner.locator("button.gateway-wechatpay").click()
    box = diner.locator(".payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    payment = Payment.objects.get()
    assert payment.provider == "wechatpay"
    assert wechatpay_sim.order(payment.reference)["trade_type"] == "H5"

    # The diner opens WeChat Pay's H5 page, sees the amount and approves there.
    h5_url = box.locator("a.button").get_attribute("href")
    assert h5_url.startswith(wechatpay_sim.url + "/pay/") and "redirect_url=" in h5_url
    diner.goto(h5_url)
    expect(diner.get_by_test_id("amount")).to_have_text("¥50.00")
    diner.get_by_test_id("approve").click()

    # Back on the pay page (redirect_url): the notification came over HTTP, the bill is paid.
    diner.wait_for_url(f"{wechat_server.url}/t/{table.token}/pay/")
    expect(diner.locator(".paid-up")).to_be_visible()
    expect(diner.locator("#pay-due")).to_have_text("¥0")

    deadline = time.monotonic() + 10
    while len(wechatpay_sim.deliveries()) < 2:  # notified twice; both answered 204
        assert time.monotonic() < deadline, wechatpay_sim.deliveries()
        time.sleep(0.1)
    outcomes = [d["outcome"] for d in wechatpay_sim.deliveries() if d["kind"] == "transaction"]
    assert outcomes[-2:] == [204, 204]
    payment.refresh_from_db()
    assert payment.status == "succeeded" and Payment.objects.count() == 1
    assert LedgerEntry.objects.count() == 1 and ledger_sum(account="qr") == 50
    assert Tab.objects.get(pk=tab.pk).status == "settled"
    context.close()
