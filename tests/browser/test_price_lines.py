"""Issue 9 in Chromium: a bill with a seat charge, a coupon typed on a phone and taken off at the
till; both screens show each price rule as its own line, live, without a reload."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from orders.models import Area, Table
from payments.coupons import services as coupons
from payments.coupons.models import Coupon
from tests.browser.pages import live
from tests.payments.conftest import seat

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOTS")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.SANDBOX_GATEWAY = True
    settings.SANDBOX_GATEWAY_SECRET = "test-sandbox-secret"


def test_a_coupon_from_the_phone_and_a_seat_charge_show_on_both_screens_live(
    server, phone, staff_screen, menu, cashier
):
    Area.objects.create(name="茶楼", seat_charge=Decimal("3.00"), seat_charge_name="茶位费")
    table = Table.objects.create(code="T1", area="茶楼")
    tab = seat(table, menu, guests=2)  # 50 + 2 × 3
    coupon = Coupon.objects.create(name="满40减10", type="threshold", off=10, minimum=40)
    code = coupons.coupon_issue(coupon=coupon).code

    till = staff_screen(server, "cashier", "pw-cashier", f"/cashier/?tab={tab.pk}")
    live(till)
    bill = till.locator("#bill")
    expect(bill.locator("dt.adj-seat_charge")).to_have_text("茶位费 (2 × ¥3)")
    expect(till.locator("#bill-total")).to_have_text("¥56")

    page = phone()
    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)
    expect(page.locator("#pay-total")).to_have_text("¥56")
    page.locator(".coupon-box summary").click()
    field = page.locator(".coupon-form input[name=code]")

    field.fill("WRONGCODE2")
    page.locator(".coupon-form button").click()
    expect(page.locator("#flash")).to_contain_text("没有这张优惠券")
    expect(page.locator("#pay-total")).to_have_text("¥56")

    field.fill(code.lower())
    page.locator(".coupon-form button").click()
    expect(page.locator("#pay-bill dt.adj-coupon")).to_have_text("优惠券 · 满40减10")
    expect(page.locator("#pay-bill dd.adj-coupon")).to_have_text("−¥10")
    expect(page.locator("#pay-total")).to_have_text("¥46")
    shot(page, "phone-coupon")

    # The till sees it at once, on the bill it already shows.
    expect(bill.locator("dt.adj-coupon")).to_have_text("优惠券 · 满40减10")
    expect(till.locator("#bill-total")).to_have_text("¥46")
    shot(till, "till-coupon")

    # Taken off at the till: the phone's bill follows.
    till.locator(".coupon-on button").click()
    expect(page.locator("#pay-total")).to_have_text("¥56")
    expect(page.locator("#pay-bill dt.adj-coupon")).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True
    assert till.evaluate("window.__notReloaded") is True

    # A second tap uses it once: typed twice, the bill takes 10 off once.
    page.locator(".coupon-form input[name=code]").fill(code)
    page.locator(".coupon-form button").click()
    page.locator(".coupon-form button").click()
    expect(till.locator("#bill-total")).to_have_text("¥46")
    expect(page.locator("#pay-bill dd.adj-coupon")).to_have_count(1)


def test_the_pay_page_in_english_at_200_percent_text(server, phone, menu):
    Area.objects.create(name="茶楼", seat_charge=Decimal("3.00"), seat_charge_name="")
    table = Table.objects.create(code="T2", area="茶楼")
    tab = seat(table, menu, guests=2)
    coupon = Coupon.objects.create(name="满100减20", type="threshold", off=20, minimum=100)
    code = coupons.coupon_issue(coupon=coupon).code
    page = phone(locale="en-US")
    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    page.locator(".coupon-box summary").click()
    page.locator(".coupon-form input[name=code]").fill(code)
    page.locator(".coupon-form button").click()
    # 50 < 100: refused with the reason, the bill unchanged
    expect(page.locator("#flash")).to_contain_text("¥100")
    expect(page.locator("#pay-bill dt.adj-seat_charge")).to_have_text("Seat charge (2 × ¥3)")
    expect(page.locator("#pay-total")).to_have_text("¥56")
    shot(page, "phone-en-200")
    wide = page.evaluate(
        """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 12)"""
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, (width, wide)
    assert tab.pk
