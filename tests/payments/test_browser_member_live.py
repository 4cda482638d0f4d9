"""The member's card on their phone and the till's page of the member, both live: the cashier
tops up and the phone shows the new balance within a second, nobody reloading. Real Chromium,
a real daphne, real Redis."""

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from payments.members import services as members
from payments.members.models import Member, TopUp
from tests.browser.pages import live

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/members-shots"))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def console_errors(page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def open_card(page, server, member, pin="123456"):
    page.goto(f"{server.url}/m/{member.link_token}/")
    page.locator("input[name=pin]").fill(pin)
    page.locator("button.primary").click()
    expect(page.locator("#member-code svg")).to_be_visible()
    live(page)


def test_the_phone_shows_a_top_up_at_the_till_within_a_second_without_reloading(
    server, phone, staff_screen, cashier
):
    member = members.member_create(mobile="13800138000", pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    card = phone()
    card_errors = console_errors(card)
    open_card(card, server, member)
    expect(card.locator("#my-balance")).to_have_text("¥100")
    english = phone(locale="en-US")  # another phone of the member's, in English at 200 %
    open_card(english, server, member)
    english.evaluate("document.documentElement.style.fontSize = '200%'")
    till = staff_screen(server, "cashier", "pw-cashier", f"/cashier/members/{member.pk}/")
    till_errors = console_errors(till)
    till.reload()  # watched from the first byte
    live(till)

    till.locator("input[name=amount]").first.fill("200")
    started = time.monotonic()
    till.locator("form.take button.primary").click()
    expect(card.locator("#my-balance")).to_have_text("¥300", timeout=1000)
    took = time.monotonic() - started
    print(f"phone showed the top-up {took * 1000:.0f} ms after the tap")
    expect(english.locator("#my-balance")).to_have_text("¥300", timeout=1000)
    expect(card.locator("#statement")).to_contain_text("充值200.00")
    card.locator("#my-statement > summary").click()
    shot(card, "card-after-top-up-zh")
    english.locator("#my-statement > summary").click()
    expect(english.locator("#statement")).to_contain_text("top-up")
    shot(english, "card-after-top-up-en-200pct")
    # The open statement scrolls inside the card: the page keeps the phone's width.
    assert english.evaluate("document.documentElement.scrollWidth <= screen.width + 1")
    for page in (card, english):
        assert page.evaluate("window.__notReloaded") is True
    assert TopUp.objects.filter(member=member).count() == 2

    # "Close my card" in another tab of the English phone: its open card says so at the next
    # push and shows no figures any more; the other phone is still live.
    other_tab = english.context.new_page()
    other_tab.goto(f"{server.url}/m/{member.link_token}/")
    other_tab.locator("form[action$='/lock/'] button").click()
    till.locator("#member-form-top-up input[name=amount]").fill("10")
    till.locator("#member-form-top-up button.primary").click()
    expect(card.locator("#my-balance")).to_have_text("¥310")
    expect(english.locator("#my-card")).to_contain_text("closed on this phone")
    expect(english.locator("#my-balance")).to_have_count(0)
    expect(english.locator("form[action$='/lock/']")).to_have_count(0)
    shot(english, "card-closed-en-200pct")
    # No htmx error on either page: every pushed region and stamp found its element.
    assert card_errors == [] and till_errors == []
    stream = f"member.{member.pk}"
    for page in (card, till):
        assert page.locator(".live-seq").evaluate_all("s => s.map(i => i.dataset.stream)") == [
            stream
        ]
        assert (
            int(page.locator(".live-seq").get_attribute("data-seq")) >= 2
        )  # two top-ups at the till


def test_the_tills_forms_answer_in_place_refuse_in_place_and_a_second_tap_is_harmless(
    server, phone, staff_screen, cashier
):
    member = members.member_create(mobile="13800138000", pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    card = phone()
    open_card(card, server, member)
    till = staff_screen(server, "cashier", "pw-cashier", f"/cashier/members/{member.pk}/")
    live(till)
    form = till.locator("#member-form-top-up")

    # A wrong amount: why, in the form, what was typed kept; nothing changes anywhere.
    form.locator("input[name=amount]").fill("12.345")
    form.locator("button.primary").click()
    expect(till.locator("#member-form-top-up .form-error")).to_contain_text("金额")
    expect(till.locator("#member-form-top-up input[name=amount]")).to_have_value("12.345")
    shot(till, "till-top-up-refused-zh")
    expect(till.locator("#member-balance")).to_have_text("¥100")

    # Two taps at once: one top-up; the phone hears it.
    till.locator("#member-form-top-up input[name=amount]").fill("200")
    till.locator("#member-form-top-up button.primary").dblclick()
    expect(till.locator("#flash")).to_contain_text("充值 ¥200")
    expect(till.locator("#member-balance")).to_have_text("¥300")
    expect(card.locator("#my-balance")).to_have_text("¥300", timeout=1000)
    expect(till.locator("#member-form-top-up input[name=amount]")).to_have_value("")
    assert TopUp.objects.filter(member=member).count() == 2

    # Frozen at the till: the phone says so at once; a top-up is refused in its form.
    till.locator("#member-actions details", has_text="挂失").locator("summary").click()
    till.locator("#member-form-freeze input[name=reason]").fill("卡丢了")
    till.locator("#member-form-freeze button").click()
    expect(till.locator("#member-status")).to_have_text("已冻结")
    expect(card.locator("#card-frozen")).to_contain_text("会员卡已冻结")
    till.locator("#member-form-top-up input[name=amount]").fill("50")
    till.locator("#member-form-top-up button.primary").click()
    expect(till.locator("#member-form-top-up .form-error")).to_contain_text("会员卡已冻结")
    shot(till, "till-frozen-refused-zh")
    shot(card, "card-frozen-zh")
    member.refresh_from_db()
    assert member.balance == 300
    for page in (till, card):
        assert page.evaluate("window.__notReloaded") is True

    # In English at 200 % text: the same refusal, in place.
    till.locator("form.lang button").click()
    expect(till.locator("html")).to_have_attribute("lang", "en")
    live(till)
    till.evaluate("document.documentElement.style.fontSize = '200%'")
    till.locator("#member-form-top-up input[name=amount]").fill("50")
    till.locator("#member-form-top-up button.primary").click()
    expect(till.locator("#member-form-top-up .form-error")).to_contain_text("frozen")
    shot(till, "till-frozen-refused-en-200pct")
    assert till.evaluate("window.__notReloaded") is True


def test_the_member_list_searches_and_joins_without_reloading(server, staff_screen, cashier):
    members.member_create(mobile="13800138000", name="王芳", pin="123456")
    till = staff_screen(server, "cashier", "pw-cashier", "/cashier/members/")
    till.evaluate("window.__notReloaded = true")
    till.locator("#member-q").fill("李")
    expect(till.locator("#members-found")).to_contain_text("没有找到会员")
    till.locator("#member-q").fill("0013")
    expect(till.locator("#members-found")).to_contain_text("王芳")
    assert till.url.endswith("?q=0013")
    new = till.locator("#member-new-form")
    new.locator("input[name=mobile]").fill("139")
    new.locator("button.primary").click()
    expect(till.locator("#member-new-form .form-error")).to_be_visible()
    expect(till.locator("#member-new-form input[name=mobile]")).to_have_value("139")
    till.locator("#member-new-form input[name=mobile]").fill("13900000001")
    till.locator("#member-new-form button.primary").dblclick()
    expect(till.locator("#members-found")).to_contain_text("13900000001")
    expect(till.locator("#flash")).to_contain_text("已建会员")
    expect(till.locator("#member-new-form input[name=mobile]")).to_have_value("")
    expect(till.locator("#member-q")).to_have_value("")
    assert till.url.endswith("/cashier/members/")
    till.evaluate("document.documentElement.style.fontSize = '200%'")
    shot(till, "till-list-joined-zh-200pct")
    assert till.evaluate("window.__notReloaded") is True
    assert Member.objects.filter(mobile="13900000001").count() == 1
