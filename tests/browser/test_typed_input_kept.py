"""In Chromium: what staff type into a live region survives the pushes that replace it. A reason
typed before the socket's first state arrives, or while another screen changes the bill, keeps
its text, its focus and its caret, and an open <details> stays open."""

import re

import pytest
from playwright.sync_api import expect

from orders import services
from tests.browser.pages import live, order_dishes

pytestmark = pytest.mark.browser


@pytest.fixture
def ordered_tab(server, table, menu):
    """Made before the browser starts (its event loop would hold up the pushes)."""
    tab = services.tab_for_table(table=table)
    lines = [
        services.LineRequest(dish=menu["fish"].pk),
        services.LineRequest(dish=menu["chicken"].pk, options=[menu["mild"].pk]),
    ]
    services.order_submit(tab=tab, key="two", guests=2, lines=lines)
    return tab


def hold_socket(page):
    """Route the page's socket through the test, holding the server's messages back until the
    returned `release()`: the page as a slow connection shows it before its first state."""
    state = {"holding": True, "held": [], "page_side": None}

    def from_server(message):
        if state["holding"]:
            state["held"].append(message)
        else:
            state["page_side"].send(message)

    def route(ws):
        state["page_side"] = ws
        ws.connect_to_server().on_message(from_server)

    page.route_web_socket(re.compile(r"/ws/"), route)

    def release():
        state["holding"] = False
        for message in state["held"]:
            state["page_side"].send(message)

    return release


def mark_replaced(page, selector):
    """Mark a region, so that a test can see that a push has replaced it."""
    page.locator(selector).evaluate("e => { e.dataset.old = '1'; }")


def test_a_void_reason_typed_before_the_first_state_keeps_its_text_focus_and_caret(
    server, ordered_tab, staff_screen, cashier, table
):
    waiter = staff_screen(server, "cashier", "pw-cashier", "/staff/tables/")
    release = hold_socket(waiter)
    waiter.goto(f"{server.url}/t/{table.token}/")
    live(waiter)
    fish = waiter.locator("#tab .line", has_text="清蒸鲈鱼")
    reason = fish.locator("input[name=reason]")
    reason.fill("客人")  # the bill as the HTML drew it: the socket's state has not come
    mark_replaced(waiter, "#tab")

    release()  # the first state replaces the bill, the reason's field with it
    expect(waiter.locator("#tab")).not_to_have_attribute("data-old", "1")
    expect(reason).to_have_value("客人")
    expect(reason).to_be_focused()
    waiter.keyboard.type("不要了")  # the caret stayed after what was typed
    expect(reason).to_have_value("客人不要了")
    fish.locator(".staff-void button").click()
    expect(fish).to_have_class("line status-voided")
    assert waiter.evaluate("window.__notReloaded") is True


def test_the_cashier_keeps_an_open_void_and_its_reason_while_a_phone_orders(
    server, ordered_tab, staff_screen, phone, cashier, table, menu
):
    till = staff_screen(server, "cashier", "pw-cashier", f"/cashier/?tab={ordered_tab.pk}")
    diner = phone()
    diner.goto(f"{server.url}/t/{table.token}/")
    for page in (till, diner):
        live(page)
    fish = till.locator("#bill tr", has_text="清蒸鲈鱼")
    fish.locator("details.line-actions summary").click()
    void_reason = fish.locator("form:has(button.danger) input[name=reason]")
    void_reason.fill("上错")
    mark_replaced(till, "#bill")

    order_dishes(diner, menu["cucumber"])  # the bill gains a dish: a push replaces it
    expect(till.locator("#bill")).to_contain_text("拍黄瓜")
    expect(till.locator("#bill")).not_to_have_attribute("data-old", "1")
    expect(fish.locator("details.line-actions")).to_have_attribute("open", "")
    expect(void_reason).to_have_value("上错")
    expect(void_reason).to_be_focused()
    till.keyboard.type("了桌")
    expect(void_reason).to_have_value("上错了桌")
    fish.locator("button.danger").click()
    expect(till.locator("#bill tr", has_text="清蒸鲈鱼")).to_have_class("status-voided")
    assert till.evaluate("window.__notReloaded") is True
