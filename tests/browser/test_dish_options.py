"""In Chromium, on a phone: a dish's options come when its 选规格 is tapped; what the diner chose
and typed there stays while the kitchen changes the dish (a push replaces its card); and a phone
without script orders the same dish through the link's own page."""

import pytest
from playwright.sync_api import expect

from orders.models import CartItem
from tests.browser.pages import live

pytestmark = pytest.mark.browser


def test_the_options_come_when_tapped_and_survive_a_push_of_their_card(
    server, phone, staff_screen, cook, table, menu
):
    stock = staff_screen(server, "cook", "pw-cook", "/kitchen/stock/")
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)
    card = page.locator(f"#dish-{menu['chicken'].pk}")
    expect(card.locator("form")).to_have_count(0)  # nothing but a link until tapped
    card.locator(".choose-link").click()
    options = card.locator(".choose form")
    options.get_by_label("特辣").check()
    options.locator("input[name=note]").fill("不要香菜")
    card.evaluate("e => { e.dataset.old = '1'; }")

    # The kitchen sets the dish's portions: every menu gets its new card.
    row = stock.locator(f"#stock-{menu['chicken'].pk}")
    row.locator("input[name=stock]").fill("9")
    row.locator(".stock-form button").click()
    expect(card).not_to_have_attribute("data-old", "1")
    expect(options).to_be_visible()
    expect(options.get_by_label("特辣")).to_be_checked()
    expect(options.locator("input[name=note]")).to_have_value("不要香菜")
    options.locator("button.primary").click()
    expect(page.locator("#cart")).to_contain_text("不要香菜")
    expect(options).to_be_hidden()

    # Sold out: the card says so and offers no form.
    row.locator("button.bump").click()
    expect(card.locator(".sold-out-badge")).to_be_visible()
    expect(card.locator(".choose")).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True


def test_a_phone_without_script_orders_through_the_options_page(server, browser, table, menu):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        locale="zh-CN",
        java_script_enabled=False,
    )
    page = context.new_page()
    page.goto(f"{server.url}/t/{table.token}/")
    page.locator(f"#dish-{menu['chicken'].pk} .choose-link").click()
    expect(page).to_have_url(f"{server.url}/t/{table.token}/dishes/{menu['chicken'].pk}/")
    page.get_by_label("特辣").check()
    page.locator("input[name=note]").fill("少油")
    page.locator("button.primary").click()
    expect(page).to_have_url(f"{server.url}/t/{table.token}/")
    expect(page.locator("#cart")).to_contain_text("宫保鸡丁")
    expect(page.locator("#cart")).to_contain_text("少油")
    assert [o.name for o in CartItem.objects.get().options.all()] == ["特辣"]
    context.close()
