"""In Chromium: a ticket whose only dish is voided stays on every board with the dish struck
through, until a cook clears it (one tap on its header) or KITCHEN_VOID_MINUTES pass."""

import pytest
from playwright.sync_api import expect

from orders import services
from tests.browser.pages import live

pytestmark = pytest.mark.browser


@pytest.fixture
def two_orders(server, table, other_table, menu):
    """Made before the browser starts (its event loop would hold up the pushes)."""
    made = []
    for at, key in ((table, "fish-1"), (other_table, "fish-2")):
        tab = services.tab_for_table(table=at)
        lines = [services.LineRequest(dish=menu["fish"].pk)]
        made.append(services.order_submit(tab=tab, key=key, guests=2, lines=lines)[0])
    return made


def board_with_fake_clock(browser, server, path):
    """A kitchen board whose timers the test can run forward (installed before the page loads)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.clock.install()
    page.goto(f"{server.url}/accounts/login/?next={path}")
    page.fill("input[name=username]", "cook")
    page.fill("input[name=password]", "pw-cook")
    page.click("button.primary")
    page.wait_for_url(f"{server.url}{path}")
    return page


def test_a_voided_only_ticket_stays_struck_through_until_cleared_or_aged_out(
    server, two_orders, browser, staff_screen, cook, cashier, table, other_table
):
    first, second = two_orders
    everything = staff_screen(server, "cook", "pw-cook", "/kitchen/")
    hot = board_with_fake_clock(browser, server, "/kitchen/hot/")
    for page in (everything, hot):
        live(page)
    waiter = staff_screen(server, "cashier", "pw-cashier", f"/t/{table.token}/")
    # The socket's first state replaces the bill, reason field included: type after it came.
    live(waiter)

    fish_row = waiter.locator("#tab .line", has_text="清蒸鲈鱼")
    fish_row.locator("input[name=reason]").fill("客人不要了")
    fish_row.locator(".staff-void button").click()
    for page in (everything, hot):
        ticket = page.locator(f"#ticket-{first.pk}")
        expect(ticket.locator(".line")).to_have_class("line status-voided")
        expect(ticket.locator(".line .status")).to_have_text("已退菜")
        expect(ticket.locator(".ticket-head")).to_contain_text("清除")
        name = ticket.locator(".line .name")
        assert "line-through" in name.evaluate("e => getComputedStyle(e).textDecorationLine")

    # One tap on its header on the hot board: gone from both boards, no reload.
    hot.locator(f"#ticket-{first.pk} .ticket-head").click()
    for page in (everything, hot):
        expect(page.locator(f"#ticket-{first.pk}")).to_have_count(0)
        expect(page.locator(f"#ticket-{second.pk}")).to_be_visible()

    # The other table's fish is voided and nobody clears it: it stays, then ages out.
    waiter.goto(f"{server.url}/t/{other_table.token}/")
    live(waiter)
    fish_row = waiter.locator("#tab .line", has_text="清蒸鲈鱼")
    fish_row.locator("input[name=reason]").fill("做不了")
    fish_row.locator(".staff-void button").click()
    expect(hot.locator(f"#ticket-{second.pk} .line")).to_have_class("line status-voided")
    hot.clock.run_for("09:00")
    expect(hot.locator(f"#ticket-{second.pk}")).to_be_visible()
    hot.clock.run_for("01:30")  # past the 10 minutes, and the screen's next look at ages
    expect(hot.locator(f"#ticket-{second.pk}")).to_have_count(0)
    for page in (everything, hot):
        assert page.evaluate("window.__notReloaded") is True
    hot.context.close()
