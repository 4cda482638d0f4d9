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
from payments.members.models import TopUp
from tests.browser.pages import live

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/members-shots"))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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
    open_card(card, server, member)
    expect(card.locator("#my-balance")).to_have_text("¥100")
    till = staff_screen(server, "cashier", "pw-cashier", f"/cashier/members/{member.pk}/")
    live(till)

    till.locator("input[name=amount]").first.fill("200")
    started = time.monotonic()
    till.locator("form.take button.primary").click()
    expect(card.locator("#my-balance")).to_have_text("¥300", timeout=1000)
    took = time.monotonic() - started
    print(f"phone showed the top-up {took * 1000:.0f} ms after the tap")
    expect(card.locator("#statement")).to_contain_text("充值200.00")
    card.locator("#my-statement > summary").click()
    shot(card, "card-after-top-up-zh")
    assert card.evaluate("window.__notReloaded") is True
    assert TopUp.objects.filter(member=member).count() == 2
