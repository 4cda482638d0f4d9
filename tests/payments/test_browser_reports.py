"""In Chromium: the manager opens the sales report of the hand-made day, its chart, the dishes'
chart, another period, English, a bad period (400), on a phone at 200 % text, and in print.
Set REPORT_SHOTS to a folder to keep the screenshots for a person to look at."""

import os

import pytest
from playwright.sync_api import expect

from .report_day import make_day

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("REPORT_SHOTS")
DAY = "from=2026-12-01&to=2026-12-01"


def shot(page, name, **kwargs):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), **kwargs)


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_manager_reads_the_days_sales_and_its_charts(
    server, staff_screen, browser, menu, cashier, manager
):
    make_day(menu, cashier, manager)
    page = staff_screen(server, "manager", "pw-manager", "/manager/reports/")
    page.locator(".report-nav").get_by_role("link", name="销售").click()
    page.locator("input[name=from]").fill("2026-12-01")
    page.locator("input[name=to]").fill("2026-12-01")
    page.get_by_role("button", name="查看").click()
    cards = page.locator(".cards")
    expect(cards.locator("div", has_text="客单价")).to_contain_text("¥25.83")
    expect(cards.locator("div", has_text="实收")).to_contain_text("¥290")
    chart = page.locator("figure.chart svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("aria-label", "按日销售: 12-01: ¥310")
    expect(page.locator(".report-table tbody tr")).to_have_count(1)
    shot(page, "sales-zh", full_page=True)

    page.locator(".report-nav").get_by_role("link", name="菜品").click()
    expect(page.locator("figure.chart").first).to_contain_text("畅销菜品")
    bars = page.locator("figure.chart").first.locator("meter")
    expect(bars).to_have_count(3)
    assert [bars.nth(i).get_attribute("value") for i in range(3)] == ["176.00", "108.00", "36.00"]
    assert page.locator("figure.chart").count() == 1  # three dishes: no "least sold" beside
    shot(page, "dishes-zh", full_page=True)

    page.locator(".report-nav").get_by_role("link", name="支付方式").click()
    expect(page.locator("figure.chart").first).to_contain_text("53.8%")
    page.locator("input[name=from]").fill("2026-11-30")
    page.locator("input[name=to]").fill("2026-12-02")
    page.get_by_role("button", name="查看").click()
    expect(page.locator(".report-head")).to_contain_text("2026-11-30 – 2026-12-02")
    expect(page.locator(".report-table")).to_contain_text("¥132")  # cash 38 + 82 + 12

    page.goto(f"{server.url}/manager/reports/sales/?from=2026-12-07&to=2026-12-01")
    expect(page.locator("p.error[role=alert]")).to_contain_text("开始日期不晚于结束日期")
    shot(page, "refused-zh")

    page.goto(f"{server.url}/manager/reports/sales/?{DAY}")
    page.get_by_role("button", name="English").click()
    expect(page.locator(".report-head h2")).to_contain_text("Sales")
    expect(page.locator("figure.chart figcaption")).to_contain_text("Sales by day")
    shot(page, "sales-en", full_page=True)

    page.emulate_media(media="print")
    expect(page.locator(".report-nav")).to_be_hidden()
    expect(page.locator("figure.chart svg")).to_be_visible()
    shot(page, "sales-print", full_page=True)


def test_on_a_phone_at_200_percent_text_the_report_keeps_its_width(
    server, browser, menu, cashier, manager
):
    make_day(menu, cashier, manager)
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, locale="zh-CN", is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.enable")
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    page.goto(f"{server.url}/accounts/login/?next=/manager/reports/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "pw-manager")
    page.click("button.primary")
    page.wait_for_url(f"{server.url}/manager/reports/")
    page.goto(f"{server.url}/manager/reports/dishes/?{DAY}")
    expect(page.locator("figure.chart").first).to_be_visible()
    assert no_sideways_scroll(page)  # the wide table scrolls inside its own box
    shot(page, "dishes-phone-200", full_page=True)
    page.goto(f"{server.url}/manager/reports/")
    expect(page.locator("#glance")).to_contain_text("在座桌数")
    assert no_sideways_scroll(page)
    shot(page, "today-phone-200", full_page=True)
    context.close()


def test_the_manager_sees_the_days_reconciliation_and_the_bill_to_act_on(
    server, staff_screen, menu, cashier, manager
):
    from datetime import date

    from payments.models import GatewayBill

    made = make_day(menu, cashier, manager)
    GatewayBill.objects.create(provider="wechatpay", bill_date=date(2026, 12, 1), rows=[
        {"kind": "payment", "out_trade_no": "dcbill2wechat", "transaction_id": "42a",
         "refund_no": "", "amount": "52.00", "fee": "0.31", "time": "2026-12-01 19:55:00"},
        {"kind": "payment", "out_trade_no": "dcnobodyknows", "transaction_id": "42b",
         "refund_no": "", "amount": "18.00", "fee": "0.11", "time": "2026-12-01 20:10:00"},
    ])  # fmt: skip
    page = staff_screen(server, "manager", "pw-manager", "/manager/reports/")
    page.locator(".report-nav").get_by_role("link", name="对账").click()
    page.locator("form.period input[name=day]").fill("2026-12-01")
    page.get_by_role("button", name="查看").click()
    expect(page.locator(".cards")).to_contain_text("不平")
    matched = page.locator("section.kind-matched")
    expect(matched).to_contain_text("dcbill2wechat")
    link = matched.get_by_role("link", name=f"打开账单 #{made['bills'][2].pk}")
    expect(link).to_have_attribute("href", f"/cashier/?tab={made['bills'][2].pk}")
    missing = page.locator("section.kind-missing_here")
    expect(missing).to_contain_text("dcnobodyknows")
    expect(missing).to_contain_text("本店无此单")
    shot(page, "reconcile-zh", full_page=True)
    missing.get_by_role("button").click()  # asks the gateways: nobody here knows this order
    expect(page.locator("p.ok[role=status]")).to_contain_text("0")
    expect(page.locator("section.kind-missing_here")).to_contain_text("dcnobodyknows")
