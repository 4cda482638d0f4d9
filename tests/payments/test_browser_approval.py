"""A cashier voids a dish already served: the approval fields appear over the bill on the same
screen, a wrong password is refused there, the manager's login lets the void through and is
recorded. Real Chromium, a real daphne."""

import os

import pytest
from playwright.sync_api import expect

from orders import services as order_services
from orders.models import OrderLine, TabEvent
from payments.realtime import bill_group
from tests.browser.pages import live

from .conftest import seat

pytestmark = pytest.mark.browser

# A password check is PBKDF2 in daphne (about a second of CPU alone, several on a loaded
# machine), and so is what waits on it.
SLOW = 20_000


@pytest.fixture
def served(server, table, menu):
    """A bill whose 拍黄瓜 is served, made before the browser starts (so its pushes go out)."""
    tab = seat(table, menu)
    cucumber = OrderLine.objects.get(order__tab=tab, name="拍黄瓜")
    for status in ("cooking", "ready", "served"):
        order_services.line_set_status(line_id=cucumber.pk, status=status)
    return tab, cucumber


def test_a_manager_approves_a_served_void_on_the_cashiers_screen(
    served, staff_screen, server, cashier, manager, table, tmp_path
):
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)
    tab, cucumber = served

    counter = staff_screen(server, "cashier", "pw-cashier", "/cashier/")
    live(counter)
    counter.locator(f"#table-{table.pk}").click()
    expect(counter.locator("#bill-due")).to_have_text("¥50", timeout=SLOW)
    # The bill's socket has sent its state (which redraws the bill): now its forms stay open.
    expect(counter.locator(f"[data-stream='{bill_group(tab.pk)}']")).to_be_attached()
    approval = counter.locator("#approval .approval-form")
    expect(approval).to_have_count(0)

    row = counter.locator("#bill tr", has_text="拍黄瓜")
    row.locator("summary").click()
    row.locator("form", has=counter.locator("button.danger")).locator("input[name=reason]").fill(
        "太咸"
    )
    row.locator("button.danger").click()

    # Refused for a cashier alone: the approval fields appear, saying why, the dish stays.
    expect(approval).to_be_visible(timeout=SLOW)
    expect(approval.locator("[role=alert]")).to_have_text("拍黄瓜已经上桌：退菜须经理批准。")
    expect(approval.locator(".approval-what")).to_contain_text("太咸")
    expect(approval.locator("input[name=manager_login]")).to_be_focused()
    counter.screenshot(path=f"{shots}/approval-asked.png")
    assert OrderLine.objects.get(pk=cucumber.pk).status == "served"

    # A wrong password is refused in the same place.
    approval.locator("input[name=manager_login]").fill("manager")
    approval.locator("input[name=manager_password]").fill("1234")
    approval.locator("button.primary").click()
    expect(approval.locator("[role=alert]")).to_have_text("经理账号或密码不对。", timeout=SLOW)
    counter.screenshot(path=f"{shots}/approval-wrong.png")
    assert OrderLine.objects.get(pk=cucumber.pk).status == "served"

    # The manager types their own: the void goes through, the fields go away.
    approval.locator("input[name=manager_login]").fill("manager")
    approval.locator("input[name=manager_password]").fill("pw-manager")
    approval.locator("button.primary").click()
    expect(approval).to_have_count(0, timeout=SLOW)
    expect(counter.locator("#bill-total")).to_have_text("¥38")
    expect(counter.locator(f"#bill-line-{cucumber.pk}")).to_have_class("status-voided")
    counter.screenshot(path=f"{shots}/approval-done.png")

    voided = TabEvent.objects.get(line=cucumber, kind="line.voided")
    assert (voided.user, voided.approved_by) == (cashier, manager)
    refused = TabEvent.objects.filter(tab=tab, kind="refused").values_list("reason", flat=True)
    assert list(refused) == ["line.void: void_needs_manager", "line.void: approval_wrong (manager)"]
    assert counter.evaluate("window.__notReloaded") is True


def test_a_manager_approves_a_served_void_on_the_staff_table_page(
    served, staff_screen, server, cashier, manager, table, tmp_path
):
    """The other screen where a cashier voids: /staff/tables/, then the table's own page with
    the staff controls. The same approval fields, asked for, refused in place, accepted."""
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)
    tab, cucumber = served

    tablet = staff_screen(server, "cashier", "pw-cashier", "/staff/tables/")
    tablet.get_by_role("link", name=table.code).click()
    tablet.wait_for_url(f"{server.url}/t/{table.token}/")
    live(tablet)
    line = tablet.locator(f"#tab-line-{cucumber.pk}")
    expect(line).to_have_class("line status-served")
    approval = tablet.locator("#approval .approval-form")
    expect(approval).to_have_count(0)

    line.locator(".staff-void input[name=reason]").fill("太咸")
    line.locator(".staff-void button").click()

    # Refused for a cashier alone: the approval fields appear on this page, saying why.
    expect(approval).to_be_visible(timeout=SLOW)
    expect(approval.locator("[role=alert]")).to_have_text("拍黄瓜已经上桌：退菜须经理批准。")
    expect(approval.locator(".approval-what")).to_contain_text("太咸")
    expect(approval.locator("input[name=manager_login]")).to_be_focused()
    tablet.screenshot(path=f"{shots}/table-approval-asked.png")
    assert OrderLine.objects.get(pk=cucumber.pk).status == "served"

    # A wrong password is refused in the same place; the dish stays.
    approval.locator("input[name=manager_login]").fill("manager")
    approval.locator("input[name=manager_password]").fill("1234")
    approval.locator("button.primary").click()
    expect(approval.locator("[role=alert]")).to_have_text("经理账号或密码不对。", timeout=SLOW)
    assert OrderLine.objects.get(pk=cucumber.pk).status == "served"

    # The manager's own login: the void goes through, the fields go, the banner says so.
    approval.locator("input[name=manager_login]").fill("manager")
    approval.locator("input[name=manager_password]").fill("pw-manager")
    approval.locator("button.primary").click()
    expect(approval).to_have_count(0, timeout=SLOW)
    expect(tablet.locator("#flash")).to_have_text("已从账单中去掉这道菜。")
    expect(line).to_have_class("line status-voided")
    tablet.screenshot(path=f"{shots}/table-approval-done.png")

    voided = TabEvent.objects.get(line=cucumber, kind="line.voided")
    assert (voided.user, voided.approved_by) == (cashier, manager)
    refused = TabEvent.objects.filter(tab=tab, kind="refused").values_list("reason", flat=True)
    assert list(refused) == ["line.void: void_needs_manager", "line.void: approval_wrong (manager)"]
