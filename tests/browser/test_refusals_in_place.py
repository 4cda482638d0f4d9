"""Issue 12.1: every refusal of a diner's tap shows in the banner, in place, and the page stays."""

import pytest
from playwright.sync_api import expect

from orders import services as order_services
from payments import services as payment_services
from tests.browser.pages import live, order_dishes

pytestmark = pytest.mark.browser


def test_a_second_hurry_is_refused_in_the_banner_and_the_page_stays(server, phone, table, menu):
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)
    order_dishes(page, menu["cucumber"])

    hurry = page.locator("#tab .line", has_text="拍黄瓜").locator("form.urge button")
    hurry.click()
    expect(page.locator("#flash")).to_contain_text("已通知厨房")
    hurry.click()

    flash = page.locator("#flash.is-error")
    expect(flash).to_contain_text("过几分钟再催")  # what to do next
    expect(page.locator("#tab")).to_contain_text("拍黄瓜")
    expect(page.locator(".menu .dish").first).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True


def test_adding_a_dish_after_the_table_was_closed_says_what_to_do(server, phone, table, menu):
    tab = order_services.tab_for_table(table=table)  # seated (a look opens no visit)
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)
    payment_services.tab_close(tab_id=tab.pk)

    page.locator(f"#dish-{menu['cucumber'].pk} .quick-add button").click()

    flash = page.locator("#flash.is-error")
    expect(flash).to_contain_text("请重新扫描桌上的二维码")
    expect(page.locator(".menu .dish").first).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True


def test_a_server_failure_or_a_lost_connection_still_answers_in_the_banner(
    server, phone, table, menu
):
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)

    page.route("**/cart/", lambda route: route.fulfill(status=500, body="boom"))
    page.locator(f"#dish-{menu['cucumber'].pk} .quick-add button").click()
    expect(page.locator("#flash.is-error")).to_contain_text("请再试一次")

    page.unroute("**/cart/")
    page.route("**/cart/", lambda route: route.abort())
    page.locator(f"#dish-{menu['cucumber'].pk} .quick-add button").click()
    expect(page.locator("#flash.is-error")).to_contain_text("网络")
    assert page.evaluate("window.__notReloaded") is True
