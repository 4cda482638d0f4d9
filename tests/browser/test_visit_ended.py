"""In Chromium: closing a table tells the phone on its page that the visit ended, and its socket
stays closed; a tab that hits a limit is flagged live on the cashier's floor (issue 11)."""

import json
import os
import urllib.error

from playwright.sync_api import expect

from orders.models import Tab
from payments.models import Payment
from tests.browser.pages import live, order_dishes
from tests.orders.test_scale_out import post_json

SHOTS = os.environ.get("VISIT_SHOTS")  # a folder to keep the screenshots in, for a person


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


def test_the_phone_is_told_its_visit_ended_and_stays_disconnected(
    server, phone, staff_screen, table, menu, cashier
):
    page = phone()
    page.goto(f"{server.url}{table.diner_path}")
    live(page)
    order_dishes(page, menu["cucumber"])
    tab = Tab.objects.get(table=table)
    till = staff_screen(server, "cashier", "pw-cashier", f"/cashier/?tab={tab.pk}")
    till.locator("button.big").click()  # cash, all that is due
    for _ in range(50):
        if Payment.objects.filter(tab=tab, status="succeeded").exists():
            break
        till.wait_for_timeout(100)
    till.locator("form.close button").click()
    expect(page.locator("#visit")).to_contain_text("本次用餐已结束")
    expect(page.locator("main.menu")).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-live", "0")
    shot(page, "visit-ended")
    page.wait_for_timeout(1500)  # htmx would have reconnected by now after a 1006
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator("body")).to_have_attribute("data-live", "0")
    assert Tab.objects.get(pk=tab.pk).status == "closed"


def order(server, table, lines, key, tab=None):
    """An API order through the live server: (status, answer)."""
    url = f"{server.url}/api/v1/tables/{table.token}/orders"
    try:
        return post_json(url, {"key": key, "tab": tab, "guests": 2, "lines": lines})
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_cashiers_floor_flags_a_tab_at_a_limit(server, staff_screen, table, menu, cashier):
    floor = staff_screen(server, "cashier", "pw-cashier", "/cashier/")
    line = [{"dish": menu["cucumber"].pk, "quantity": 99}]
    status, placed = order(server, table, line, "k1")
    assert status == 201
    tile = floor.locator(f"#table-{table.pk}")
    expect(tile).to_contain_text("A1")
    expect(tile.locator(".limit")).to_have_count(0)
    status, refused = order(server, table, line * 3, "k2", placed["tab"])  # 297 portions
    assert (status, refused["error"]) == (400, "too_many_portions")
    expect(tile.locator(".limit")).to_be_visible()
    shot(floor, "floor-limit")
