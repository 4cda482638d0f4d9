"""In Chromium: the manager's today page after yesterday's bills went wrong two ways (Alipay's
bill never came, WeChat Pay's has an amount that differs): two recorded alerts with their kind
as a label, no computed line about the bills beside them; the missing bill handled with a note
by a double tap (once), a blank note refused; in English; on a phone at 200 % text. Set
REPORT_SHOTS to a folder to keep the screenshots for a person to look at."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments.models import GatewayBill
from payments.reports.reconcile import bills_missing_due, reconcile_check
from restaurant.lib.alerts import Alert

from .test_bill_missing import paid
from .test_browser_alerts import as_the_worker
from .test_browser_reports import no_sideways_scroll, shot
from .test_reconcile import row, wechat_paid

pytestmark = pytest.mark.browser
CHINA = timezone.get_fixed_timezone(8 * 60)


def yesterday_gone_wrong(tab):
    today = timezone.now().astimezone(CHINA).date()
    yesterday = today - timedelta(days=1)
    noon = datetime.combine(yesterday, datetime.min.time(), CHINA) + timedelta(hours=12)
    wechat_paid(tab, "dcwx1", "52", noon)
    paid(tab, "qr", "alipay", "30", noon, reference="dcali1")
    paid(tab, "qr", "alipay", "18", noon + timedelta(hours=1), reference="dcali2")
    GatewayBill.objects.create(provider="wechatpay", bill_date=yesterday,
                               rows=[row("dcwx1", "53.00", time=f"{yesterday} 12:00:00")])  # fmt: skip
    late = datetime.combine(today, datetime.min.time(), CHINA) + timedelta(hours=14)
    as_the_worker(bills_missing_due, now=late)
    as_the_worker(reconcile_check, day=yesterday)
    assert Alert.objects.count() == 2
    return yesterday


def test_the_manager_sees_the_missing_bill_once_and_handles_it(
    server, staff_screen, tab, manager, needs_redis
):
    yesterday = yesterday_gone_wrong(tab)
    page = staff_screen(server, "manager", "pw-manager", "/manager/reports/")
    expect(page.locator("#connection")).to_have_text("已连接")
    alerts = page.locator("#manager-alerts .alert-item")
    expect(alerts).to_have_count(2)
    missing = alerts.filter(has_text="支付宝")
    expect(missing.locator(".alert-kind")).to_have_text("渠道账单未到")
    expect(missing).to_contain_text(f"支付宝 {yesterday} 的账单到次日 14:00 仍未取得")
    expect(missing).to_contain_text("收款和退款共 2 笔")
    expect(alerts.filter(has_text="微信支付").locator(".alert-kind")).to_have_text(
        "金额与渠道账单不符"
    )
    expect(page.locator("#glance .alerts")).to_have_count(0)  # no computed line about bills
    expect(page.locator("#glance")).not_to_contain_text("对账")
    shot(page, "bill-missing-today-zh", full_page=True)

    # A blank note is refused in place; then a double tap with a note handles it once.
    missing.locator("input[name=note]").fill("  ")
    missing.get_by_role("button", name="标记已处理").click()
    expect(page.locator("#flash")).to_contain_text("请填写原因")
    shot(page, "bill-missing-refused-zh", full_page=True)
    missing.locator("input[name=note]").fill("已从支付宝商户平台下载并上传")
    missing.get_by_role("button", name="标记已处理").dblclick()
    expect(alerts).to_have_count(1)
    handled = page.locator("#manager-alerts details.alerts-handled")
    expect(handled).to_contain_text("近一天已处理 1 条")
    handled.locator("summary").click()
    expect(handled).to_contain_text("渠道账单未到")
    assert Alert.objects.get(kind=Alert.Kind.BILL_MISSING).note == "已从支付宝商户平台下载并上传"
    shot(page, "bill-missing-handled-zh", full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.locator("#manager-alerts .alert-item .alert-kind")).to_have_text(
        "Amount differs from the gateway's"
    )
    expect(page.locator("#manager-alerts details.alerts-handled")).to_contain_text(
        f"Gateway's bill missing Alipay's bill of {yesterday} was still not in at 14:00"
    )
    shot(page, "bill-missing-today-en", full_page=True)

    # The reconciliation page's kinds read as labels too.
    page.goto(f"{server.url}/manager/reports/reconcile/?day={yesterday}")
    expect(page.locator("section.kind-amount_differs h2")).to_contain_text("Amount differs")
    expect(page.locator("section.kind-missing_there h2")).to_contain_text(
        "Recorded here, not at the gateway"
    )
    shot(page, "bill-missing-reconcile-en", full_page=True)


def test_on_a_phone_at_200_percent_text_the_missing_bill_keeps_the_width(
    server, browser, tab, manager
):
    yesterday_gone_wrong(tab)
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
    expect(page.locator("#connection")).to_have_text("已连接")
    expect(page.locator("#manager-alerts .alert-item")).to_have_count(2)
    assert no_sideways_scroll(page)
    shot(page, "bill-missing-phone-200", full_page=True)
    context.close()
