"""A member pays half the bill by balance from their phone with their PIN while a friend pays
the rest by the sandbox QR, and the cashier sees both live; the member's card shows its code.
Real Chromium, a real daphne, the sandbox's notification over HTTP."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from payments.members import services as members
from payments.members.models import Member
from payments.models import Payment
from tests.browser.pages import live

from .conftest import seat

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/members-shots"))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_member_pays_half_by_balance_with_the_pin_a_friend_the_rest_and_the_till_sees_it(
    server, phone, staff_screen, cashier, table, menu
):
    member = members.member_create(mobile="13800138000", pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    tab = seat(table, menu)  # 50
    counter = staff_screen(server, "cashier", "pw-cashier", "/cashier/")
    mine, friend = phone(), phone()
    for page in (mine, friend):
        page.goto(f"{server.url}/t/{table.token}/pay/")
    for page in (counter, mine, friend):
        live(page)
    counter.locator(f"#table-{table.pk}").click()
    expect(counter.locator("#bill-due")).to_have_text("¥50")

    # The member pays an equal share of two from the balance; a wrong PIN first.
    mine.locator("input[name=choice][value=share]").check()
    mine.locator("input[name=people]").fill("2")
    mine.locator("details.member-pay > summary").click()
    mine.locator("input[name=member_login]").fill("13800138000")
    mine.locator("input[name=member_pin]").fill("111111")
    mine.locator("button.pay-member").click()
    expect(mine.locator("#flash")).to_contain_text("密码错误")
    shot(mine, "phone-wrong-pin-zh")
    assert not Payment.objects.exists()
    mine.locator("input[name=member_pin]").fill("123456")
    mine.locator("button.pay-member").click()
    expect(mine.locator(".payment-box")).to_have_attribute("data-status", "succeeded")
    shot(mine, "phone-paid-by-balance-zh")
    # The till and the friend's phone see it without reloading.
    expect(counter.locator("#bill-paid")).to_have_text("¥25")
    expect(counter.locator("#bill-due")).to_have_text("¥25")
    expect(counter.locator("#bill")).to_contain_text("会员余额")
    expect(friend.locator("#pay-due")).to_have_text("¥25")

    # The friend pays the rest by QR in the sandbox "wallet".
    friend.locator("#pay-form button.primary").click()
    box = friend.locator(".payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    wallet = friend.context.new_page()
    wallet.goto(box.locator("a.button").get_attribute("href"))
    expect(wallet.locator("#sandbox-amount")).to_have_text("¥25.00")
    wallet.locator("button[value=approve]").click()
    expect(wallet.locator("#sandbox-done")).to_be_visible()
    wallet.close()
    expect(box).to_have_attribute("data-status", "succeeded")
    expect(counter.locator("#bill-due")).to_have_text("¥0")
    expect(counter.locator(f"#table-{table.pk}")).to_have_attribute("data-state", "settled")
    shot(counter, "cashier-member-and-qr-zh")
    for page in (counter, mine, friend):
        assert page.evaluate("window.__notReloaded") is True

    member.refresh_from_db()
    assert member.balance == 75
    assert sorted(Payment.objects.values_list("method", flat=True)) == ["member", "qr"]
    assert tab.pk == Payment.objects.get(method="member").tab_id


def test_the_member_card_opens_with_the_pin_and_shows_its_code_in_chinese_and_english(
    server, phone, table
):
    member = members.member_create(mobile="13800138000", pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    for locale, words in (("zh-CN", "出示此码"), ("en-US", "Show this code")):
        page = phone(locale=locale)
        page.goto(f"{server.url}/m/{member.link_token}/")
        page.locator("input[name=pin]").fill("123456")
        page.locator("button.primary").click()
        expect(page.locator("#member-code svg")).to_be_visible()
        expect(page.locator("#code-digits")).to_have_text(members.member_code(member)[0])
        expect(page.locator("#member-code")).to_contain_text(words)
        expect(page.locator("#my-balance")).to_have_text("¥100")
        shot(page, f"member-card-{locale}")
    big = phone()
    big.goto(f"{server.url}/m/{member.link_token}/")
    big.evaluate("document.documentElement.style.fontSize = '200%'")
    shot(big, "member-card-locked-200pct")
    assert Member.objects.get(pk=member.pk).pin_failures == 0
