"""In Chromium: the manager's "today at a glance" page shows the reconciliation's alerts, a new
alert raised by the worker appears on it without a reload, one is refused without a note and
then handled with one (and a second tap does nothing more), another manager's open page drops
it at once; in English, and on a phone at 200 % text. Set REPORT_SHOTS to a folder to keep the
screenshots for a person to look at."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from playwright.sync_api import expect

from payments.models import GatewayBill
from payments.reports.reconcile import reconcile_check
from restaurant.lib.alerts import Alert
from restaurant.lib.audit import AuditEntry
from tests.live import Worker

from .report_day import make_day
from .test_browser_reports import no_sideways_scroll, shot
from .test_reconcile import row, wechat_paid

pytestmark = pytest.mark.browser
DAY = date(2026, 12, 1)


def as_the_worker(job, **kwargs):
    """Run `job` in a thread of its own, as the worker would: Playwright's event loop holds this
    one, where the push's async_to_sync may not run."""

    def run():
        try:
            job(**kwargs)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def reconciled_day(menu, cashier, manager):
    made = make_day(menu, cashier, manager)
    from .report_day import at

    wechat_paid(made["bills"][2], "dcdiffers", "30", at(1, 19, 56))
    GatewayBill.objects.create(provider="wechatpay", bill_date=DAY, rows=[
        row("dcbill2wechat", "52.00", fee="0.31"),
        row("dcdiffers", "31.00", fee="0.19"),
        row("dcnobodyknows", "18.00", fee="0.11"),
    ])  # fmt: skip
    GatewayBill.objects.create(provider="wechatpay", bill_date=DAY + timedelta(days=1), rows=[])
    as_the_worker(reconcile_check, day=DAY)
    assert Alert.objects.count() == 2


def test_the_manager_sees_alerts_live_and_handles_one(
    server, staff_screen, menu, cashier, manager, needs_redis, tmp_path
):
    reconciled_day(menu, cashier, manager)
    page = staff_screen(server, "manager", "pw-manager", "/manager/reports/")
    expect(page.locator("#connection")).to_have_text("已连接")
    alerts = page.locator("#manager-alerts .alert-item")
    expect(alerts).to_have_count(2)
    expect(page.locator("#manager-alerts")).to_contain_text("dcdiffers 为 ¥31.00，本店记为 ¥30.00")
    expect(page.locator("#manager-alerts")).to_contain_text("本店无记录（未知订单号）")
    link = alerts.first.get_by_role("link", name="打开对账")
    expect(link).to_have_attribute("href", "/manager/reports/reconcile/?day=2026-12-01")

    # Another manager's screen, open at the same time.
    other = staff_screen(server, "manager", "pw-manager", "/manager/reports/")
    expect(other.locator("#manager-alerts .alert-item")).to_have_count(2)

    # The worker's scheduled backup fails meanwhile (its folder is a file): its alert appears
    # on both screens without a reload.
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    worker = Worker("--every", "0.2", log_dir=tmp_path, env={
        "CHANNEL_PREFIX": server.prefix, "BACKUP_AT": "00:00", "BACKUP_DIR": str(blocked)})  # fmt: skip
    try:
        worker.wait_for("the scheduled backup of")
    finally:
        worker.stop()
    expect(alerts).to_have_count(3)
    expect(other.locator("#manager-alerts .alert-item")).to_have_count(3)
    expect(page.locator("#manager-alerts h2 .count")).to_have_text("3")
    today = Alert.objects.get(kind=Alert.Kind.BACKUP_FAILED).detail["day"]
    shot(page, "alerts-today-zh", full_page=True)

    # No note (only spaces): refused in place, nothing handled.
    differs = alerts.filter(has_text="dcdiffers")
    differs.locator("input[name=note]").fill("   ")
    differs.get_by_role("button", name="标记已处理").click()
    expect(page.locator("#flash")).to_contain_text("请填写原因")
    assert not Alert.objects.filter(handled_at__isnull=False).exists()
    shot(page, "alerts-refused-zh", full_page=True)

    # With a note, tapped twice: handled once.
    differs.locator("input[name=note]").fill("微信少收1元，已联系渠道")
    differs.get_by_role("button", name="标记已处理").dblclick()
    expect(alerts).to_have_count(2)
    expect(page.locator("#flash")).to_contain_text("提醒已标记为已处理")
    handled = page.locator("#manager-alerts details.alerts-handled")
    expect(handled).to_contain_text("近一天已处理 1 条")
    handled.locator("summary").click()
    expect(handled).to_contain_text("manager 于")
    expect(handled).to_contain_text("处理：微信少收1元，已联系渠道")
    expect(other.locator("#manager-alerts .alert-item")).to_have_count(2)  # live there too
    assert AuditEntry.objects.filter(kind=AuditEntry.Kind.ALERT).count() == 1
    shot(page, "alerts-handled-zh", full_page=True)

    # The day-close screen lists them too, live on its own socket.
    other.goto(f"{server.url}/manager/day/")
    expect(other.locator("#connection")).to_have_text("已连接")
    expect(other.locator("#manager-alerts .alert-item")).to_have_count(2)
    shot(other, "alerts-day-close-zh", full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page.locator("#manager-alerts h2")).to_contain_text("Alerts")
    expect(page.locator("#manager-alerts")).to_contain_text(
        f"The scheduled backup of {today} failed: [Errno 17] File exists"
    )
    expect(page.locator("#connection")).to_have_text("Live")
    shot(page, "alerts-today-en", full_page=True)


def test_on_a_phone_at_200_percent_text_the_alerts_keep_the_width(
    server, browser, menu, cashier, manager
):
    reconciled_day(menu, cashier, manager)
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
    # The socket's first message replaces the region: measure what stays, not what it replaced.
    expect(page.locator("#connection")).to_have_text("已连接")
    expect(page.locator("#manager-alerts .alert-item")).to_have_count(2)
    assert no_sideways_scroll(page)
    button = page.locator("#manager-alerts button").first
    expect(button).to_be_visible()
    # Measured in the page in one step (a bounding box read separately may meet a replaced node).
    assert button.evaluate("b => b.getBoundingClientRect().height") >= 44
    shot(page, "alerts-phone-200", full_page=True)
    context.close()
