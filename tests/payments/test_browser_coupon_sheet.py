"""The coupon sheet in Chromium: on screen, printed to A4 (PDF) with the toolbar gone and every
card on its page, at 200 % text size and in English. Screenshots and the PDF go to SHOTS."""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from payments.coupons import services
from payments.coupons.models import Coupon

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/coupon-sheet-shots"))

# Each card's box and whether it lies inside its A4 page's box; the QR code's size in mm.
CARDS = """() => [...document.querySelectorAll('.page')].map((page) => {
  const p = page.getBoundingClientRect();
  return [...page.querySelectorAll('.card')].map((card) => {
    const c = card.getBoundingClientRect();
    const q = card.querySelector('.qr svg').getBoundingClientRect();
    const code = card.querySelector('.code').getBoundingClientRect();
    return {
      inside: c.left >= p.left - 2 && c.right <= p.right + 2 && c.top >= p.top - 2 && c.bottom <= p.bottom + 2,
      qr_mm: q.width * 25.4 / 96,
      code_inside: code.right <= c.right + 1 && code.bottom <= c.bottom + 1,
    };
  });
})"""


@pytest.fixture
def batch(db, manager, menu):
    manager.is_staff = True
    manager.save()
    coupon = Coupon.objects.create(
        name="满100减20", type="threshold", off=Decimal("20"), minimum=Decimal("100")
    )
    coupon.categories.add(menu["chicken"].category)
    return services.batch_issue(coupon=coupon, quantity=12, user=manager)


def sheet_path(batch):
    return f"/admin/coupons/batch/{batch.pk}/sheet/"


def check_cards(page):
    pages = page.evaluate(CARDS)
    assert [len(cards) for cards in pages] == [10, 2]
    for cards in pages:
        for card in cards:
            assert card["inside"] and card["code_inside"], card
            assert 29 <= card["qr_mm"] <= 31, card


def test_the_sheet_prints_on_a4_with_every_card_on_its_page(server, staff_screen, batch):
    page = staff_screen(server, "manager", "pw-manager", sheet_path(batch))
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect(page.locator(".toolbar")).to_contain_text("12 张未使用的券码")
    check_cards(page)
    page.screenshot(path=str(SHOTS / "sheet-zh.png"), full_page=True)

    page.emulate_media(media="print")
    expect(page.locator(".toolbar")).to_be_hidden()
    check_cards(page)
    page.screenshot(path=str(SHOTS / "sheet-zh-print.png"), full_page=True)
    pdf = page.pdf(format="A4", path=str(SHOTS / "sheet-zh.pdf"))
    # Two A4 pages (10 cards and 2), none spilling onto a third.
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2


def test_the_sheet_at_200_percent_text_and_in_english(server, browser, batch):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = context.new_page()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Page.enable")
        cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
        page.goto(f"{server.url}/accounts/login/?next={sheet_path(batch)}")
        page.fill("input[name=username]", "manager")
        page.fill("input[name=password]", "pw-manager")
        page.click("button.primary")
        page.wait_for_url(f"{server.url}{sheet_path(batch)}")
        expect(page.locator(".toolbar")).to_contain_text("12 unused codes")
        expect(page.locator(".card").first).to_contain_text("¥20 off a spend of ¥100")
        # The cards are in print units: the same on paper whatever the screen's text size.
        check_cards(page)
        page.screenshot(path=str(SHOTS / "sheet-en-200.png"), full_page=False)
    finally:
        context.close()
