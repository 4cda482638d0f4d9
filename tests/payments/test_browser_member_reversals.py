"""The cashier refunds a member's bill in full by hand (a refused amount first, then a double
tap): the bill lists the points and the coupon it gave back, live; the member's statement shows
them. Real Chromium, a real daphne; Chinese, English and 200 % text."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from payments.coupons import services as coupons
from payments.coupons.models import Coupon, CouponEvent
from payments.members import services as members
from payments.members.models import Move
from payments.models import Refund
from payments.services import payment_start
from tests.browser.pages import live

from .conftest import seat

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/member-reversal-shots"))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_bill_refunded_in_full_shows_what_it_gave_back_at_the_till_and_on_the_statement(
    server, browser, phone, staff_screen, cashier, manager, table, menu
):
    member = members.member_create(mobile="13800138000", pin="123456")
    members.member_adjust(member_id=member.pk, points=5000, reason="活动", user=manager)
    coupon = Coupon.objects.create(name="满40减10", type="threshold", off=Decimal("10"), minimum=40)
    code = coupons.coupon_issue(coupon=coupon, member_id=member.pk)
    tab = seat(table, menu)  # 50
    members.tab_member_identify(
        tab_id=tab.pk, auth=members.MemberAuth(login=member.number, pin="123456")
    )
    coupons.coupon_redeem(code=code.code, tab_id=tab.pk, user=cashier)
    members.points_redeem(tab_id=tab.pk, points=1000, user=cashier)
    tab.refresh_from_db()
    payment_start(
        tab_id=tab.pk, method="cash", amount=Decimal("30"), version=tab.version, key="c",
        user=cashier,
    )  # fmt: skip

    counter = staff_screen(server, "cashier", "pw-cashier", f"/cashier/?tab={tab.pk}")
    live(counter)
    expect(counter.locator("#bill-paid")).to_have_text("¥30")
    refund = counter.locator("#bill-payments details").first
    refund.locator("summary").click()
    # Refused: more than was paid. Nothing is given back.
    refund.locator("input[name=amount]").fill("31")
    refund.locator("input[name=reason]").fill("客人投诉")
    refund.locator("button").click()
    expect(counter.locator("#flash")).to_contain_text("30")
    expect(counter.locator("#bill-given-back")).to_have_count(0)
    shot(counter, "refund-refused-zh")
    # The whole 30, tapped twice.
    refund.locator("input[name=amount]").fill("30")
    refund.locator("button").dblclick()
    given = counter.locator("#bill-given-back")
    expect(given).to_contain_text("1000 积分退回会员")
    expect(given).to_contain_text("优惠券 满40减10")
    expect(given).to_contain_text("整单已退款")
    expect(counter.locator("#bill-due")).to_have_text("¥50")
    shot(counter, "bill-given-back-zh")
    counter.evaluate("document.documentElement.style.fontSize = '200%'")
    shot(counter, "bill-given-back-200pct")
    assert counter.evaluate("window.__notReloaded") is True
    assert Refund.objects.count() == 1
    assert Move.objects.filter(kind="points_return").count() == 1
    assert CouponEvent.objects.filter(kind="given_back").count() == 1
    member.refresh_from_db()
    assert member.points == 5000  # the 30 earned taken back, the 1000 spent given back

    # In English, on a screen opened afterwards.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    english = context.new_page()
    english.goto(f"{server.url}/accounts/login/?next=/cashier/?tab={tab.pk}")
    english.fill("input[name=username]", "cashier")
    english.fill("input[name=password]", "pw-cashier")
    english.click("button.primary")
    given = english.locator("#bill-given-back")
    expect(given).to_contain_text("1000 points to member")
    expect(given).to_contain_text("can be used again")
    shot(english, "bill-given-back-en")

    # The member's own statement.
    mine = phone()
    mine.goto(f"{server.url}/m/{member.link_token}/")
    mine.locator("input[name=pin]").fill("123456")
    mine.locator("button.primary").click()
    mine.locator("details:has(#statement) > summary").click()
    statement = mine.locator("#statement")
    expect(statement.locator("tr.move-points_return")).to_contain_text("整单已退款")
    expect(statement.locator("tr.move-coupon_back")).to_contain_text("满40减10")
    expect(statement.locator("tr.move-coupon_back")).to_contain_text("整单已退款")
    shot(mine, "member-statement-zh")
    mine.evaluate("document.documentElement.style.fontSize = '200%'")
    shot(mine, "member-statement-200pct")
    context.close()
