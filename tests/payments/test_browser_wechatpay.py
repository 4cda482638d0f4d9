"""WeChat Pay H5 and Alipay wap on phones, end to end: real Chromium at phone size with a
phone's user agent, a real daphne configured from the simulators' environment, the simulators'
pages, and their signed notifications travelling over HTTP to our notify endpoints."""

import time

import pytest
from playwright.sync_api import expect

from orders.models import Tab
from payments.models import LedgerEntry, Payment
from tests.browser.pages import live
from tests.live import Daphne

from .conftest import ledger_sum, seat
from .test_wechatpay import IPHONE

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36"
)

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def patient_expect():
    """Three processes and three browsers on a loaded two-core machine: wait up to 15 s."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


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


@pytest.fixture
def both_server(transactional_db, settings, tmp_path, wechatpay_sim, alipay_sim):
    for sim in (wechatpay_sim, alipay_sim):
        sim.reset()
        sim.controls(delivery="http")
    settings.MEDIA_ROOT = tmp_path / "media"
    daphne = Daphne(log_dir=tmp_path, env={**wechatpay_sim.env, **alipay_sim.env})
    yield daphne
    daphne.stop()


def phone_page(browser, server, table, user_agent):
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, is_mobile=True, locale="zh-CN",
        user_agent=user_agent,
    )  # fmt: skip
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)
    return page


def test_half_by_wechat_half_by_alipay_both_screens_live_and_the_books_balance(
    both_server, wechatpay_sim, alipay_sim, browser, staff_screen, cashier, table, menu
):
    tab = seat(table, menu)  # 50
    counter = staff_screen(both_server, "cashier", "pw-cashier", "/cashier/")
    live(counter)
    expect(counter.locator(f"#table-{table.pk}")).to_have_attribute("data-state", "eating")
    counter.locator(f"#table-{table.pk}").click()
    expect(counter.locator("#bill-due")).to_have_text("¥50")
    first = phone_page(browser, both_server, table, IPHONE)
    second = phone_page(browser, both_server, table, ANDROID)

    # The first phone pays an equal share of two with WeChat Pay (H5) and approves there.
    first.locator("input[name=choice][value=share]").check()
    first.locator("input[name=people]").fill("2")
    first.locator("button.gateway-wechatpay").click()
    box = first.locator(".payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    first.goto(box.locator("a.button").get_attribute("href"))
    expect(first.get_by_test_id("amount")).to_have_text("¥25.00")
    first.get_by_test_id("approve").click()
    first.wait_for_url(f"{both_server.url}/t/{table.token}/pay/")
    expect(counter.locator("#bill-paid")).to_have_text("¥25")
    expect(counter.locator("#bill-due")).to_have_text("¥25")
    expect(second.locator("#pay-due")).to_have_text("¥25")  # live on the other phone

    # The second phone pays the rest with Alipay: our address sends it to Alipay's wap cashier.
    second.locator("button.gateway-alipay").click()
    box = second.locator(".payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    second.goto(box.locator("a.button").get_attribute("href"))
    expect(second.get_by_test_id("amount")).to_have_text("¥25.00")
    second.get_by_test_id("approve").click()
    second.wait_for_url(f"{both_server.url}/t/{table.token}/pay/")
    expect(second.locator(".paid-up")).to_be_visible()
    expect(counter.locator("#bill-due")).to_have_text("¥0")
    expect(counter.locator(f"#table-{table.pk}")).to_have_attribute("data-state", "settled")
    expect(first.locator(".paid-up")).to_be_visible()
    assert counter.evaluate("window.__notReloaded") is True

    paid = Payment.objects.filter(status="succeeded").order_by("pk")
    assert [(p.provider, p.amount) for p in paid] == [("wechatpay", 25), ("alipay", 25)]
    assert wechatpay_sim.order(paid[0].reference)["trade_type"] == "H5"
    assert alipay_sim.order(paid[1].reference)["product"] == "QUICK_WAP_WAY"
    assert ledger_sum(account="qr") == 50 and LedgerEntry.objects.count() == 2
    assert Tab.objects.get(pk=tab.pk).status == "settled"


def test_inside_wechat_a_phone_pays_through_the_jsapi_sheet(
    wechat_server, wechatpay_sim, browser, table, menu
):
    """WeChat's browser: the silent OAuth, our JSAPI page, and WeixinJSBridge (the simulator's
    stand-in, injected as WeChat injects the real one) showing the payment sheet."""
    import urllib.request

    from .test_wechat_jsapi import IN_WECHAT

    tab = seat(table, menu)
    with urllib.request.urlopen(f"{wechatpay_sim.url}/jsbridge.js", timeout=10) as answer:
        bridge = answer.read().decode()
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, is_mobile=True, locale="zh-CN",
        user_agent=IN_WECHAT, bypass_csp=True,  # the stand-in bridge talks to the simulator
    )  # fmt: skip
    context.add_init_script(script=bridge)
    context.set_default_timeout(15_000)
    diner = context.new_page()
    diner.goto(f"{wechat_server.url}/t/{table.token}/pay/")
    live(diner)
    diner.locator("button.gateway-wechatpay").click()
    box = diner.locator(".payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    diner.goto(box.locator("a.button").get_attribute("href"))  # → OAuth → JSAPI → sheet → back
    diner.wait_for_url(f"{wechat_server.url}/t/{table.token}/pay/")
    expect(diner.locator(".paid-up")).to_be_visible()
    payment = Payment.objects.get()
    assert payment.status == "succeeded"
    assert wechatpay_sim.order(payment.reference)["trade_type"] == "JSAPI"
    assert Tab.objects.get(pk=tab.pk).status == "settled"
    context.close()
