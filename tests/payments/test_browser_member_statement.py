"""The member's statement on their own card is read on a phone: at 360 px wide, at 100 % and at
200 % text (the phone's font-size setting), in Chinese and in English, every line's kind reads
as words (not one character per line) and its reason needs no sideways scrolling. The till's
statement stays a table. Real Chromium, a real daphne."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from orders.models import Tab
from payments import services
from payments.members import services as members
from payments.members.models import BonusRule

from .conftest import seat

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/members-shots"))
LONG_REASON = "上次结账时积分漏记，店长核对小票后补回；客人另外反映等位时间太长，赠送金额作为补偿"

# Each statement line's kind and reason: how many lines of text each takes, how wide it is
# against its box, and whether anything of the card reaches past the screen's right edge.
MEASURE = """() => {
  const lines = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  };
  const rows = [...document.querySelectorAll("#statement tbody tr")].map((tr) => {
    const kind = tr.querySelector(".kind"), reason = tr.querySelector(".reason");
    return {
      kind: kind.textContent.trim(), kindLines: lines(kind),
      reason: reason.textContent.trim(), reasonLines: reason.textContent.trim() ? lines(reason) : 0,
      reasonRight: reason.getBoundingClientRect().right,
    };
  });
  const box = document.querySelector("#my-statement");
  return {
    rows,
    screen: screen.width,
    scrolls: box.scrollWidth > box.clientWidth + 1,
    wide: document.documentElement.scrollWidth > screen.width + 1,
    font: parseFloat(getComputedStyle(document.body).fontSize),
  };
}"""


@pytest.fixture
def statement_member(server, table, menu, manager):
    """Made before the browser starts (its event loop would refuse the broadcasts)."""
    return a_member_with_a_long_statement(table, menu, manager)


def a_member_with_a_long_statement(table, menu, manager):
    """A top-up with its bonus, a bill paid by balance (and its points), a manager's adjustment
    with a long reason, a freeze and an unfreeze: the kinds and reasons a card shows."""
    BonusRule.objects.create(threshold=Decimal("200"), bonus=Decimal("30"))
    member = members.member_create(mobile="13800138000", pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal("200"), method="cash", key="t")
    tab = seat(table, menu)  # 50
    services.payment_start(
        tab_id=tab.pk, method="member", amount=Decimal("50"), key="by-balance",
        version=Tab.objects.get(pk=tab.pk).version,
        member=members.MemberAuth(login="13800138000", pin="123456"),
    )  # fmt: skip
    members.member_adjust(
        member_id=member.pk, balance=Decimal("12.50"), points=20, reason=LONG_REASON,
        user=manager, key="adjust",
    )  # fmt: skip
    members.member_freeze(member_id=member.pk, frozen=True, reason="卡丢了", user=manager)
    members.member_freeze(member_id=member.pk, frozen=False, reason="找到了", user=manager)
    return member


def open_card(browser, server, member, *, locale, text_size):
    context = browser.new_context(
        viewport={"width": 360, "height": 3000}, is_mobile=True, locale=locale
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    if text_size != 100:  # the phone's own text size, as a diner sets it
        cdp = context.new_cdp_session(page)
        cdp.send("Page.enable")
        standard = 16 * text_size // 100
        cdp.send("Page.setFontSizes", {"fontSizes": {"standard": standard, "fixed": standard}})
    page.goto(f"{server.url}/m/{member.link_token}/")
    page.locator("input[name=pin]").fill("123456")
    page.locator("button.primary").click()
    page.locator("#my-statement > summary").click()
    expect(page.locator("#statement tbody tr")).to_have_count(7)
    return page


@pytest.mark.parametrize("text_size", [100, 200])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_cards_statement_reads_on_a_360px_phone_without_sideways_scrolling(
    server, statement_member, browser, locale, text_size
):
    member = statement_member
    page = open_card(browser, server, member, locale=locale, text_size=text_size)
    found = page.evaluate(MEASURE)
    SHOTS.mkdir(parents=True, exist_ok=True)
    # A clip inside the (tall) viewport: a full-page shot would reset the text size.
    box = page.locator("#my-card").bounding_box()
    page.screenshot(path=str(SHOTS / f"statement-360-{locale}-{text_size}.png"), clip=box)
    page.context.close()

    assert found["font"] == 16 * text_size // 100
    assert not found["scrolls"] and not found["wide"]
    kinds = {row["kind"] for row in found["rows"]}
    assert ("调整" if locale == "zh-CN" else "adjustment") in kinds
    for row in found["rows"]:
        # A kind is one or two words: it takes at most two lines, never a character a line.
        assert row["kindLines"] <= 2, row
        assert row["reasonRight"] <= found["screen"], row
    reason = next(row for row in found["rows"] if row["reason"] == LONG_REASON)
    # The long reason wraps over lines the width of the screen (not a narrow column's).
    assert reason["reasonLines"] <= (3 if text_size == 100 else 7), reason


def test_the_tills_statement_is_still_a_table_with_who(server, statement_member, staff_screen):
    member = statement_member
    till = staff_screen(server, "manager", "pw-manager", f"/cashier/members/{member.pk}/")
    statement = till.locator("#statement")
    expect(statement.locator("thead th")).to_have_count(8)  # time … staff member, reason
    expect(statement.locator("thead")).to_be_visible()
    # Retried: the member's stream may swap the statement in as the socket connects, and a
    # detached row has no computed style.
    expect(statement.locator("tbody tr").first).to_have_css("display", "table-row")
    expect(statement.locator("tr.move-adjust")).to_contain_text("manager")
