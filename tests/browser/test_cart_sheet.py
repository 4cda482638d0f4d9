"""Issue 12.3, 12.4, 12.7 and 12.8: what the phone that orders sees, at phone size."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from menu.models import Dish
from tests.browser.pages import live, order_dishes

pytestmark = pytest.mark.browser


def test_the_phone_that_orders_sees_the_confirmation_and_the_empty_cart_closes(
    server, phone, table, menu
):
    page, other = phone(), phone()
    for p in (page, other):
        p.goto(f"{server.url}/t/{table.token}/")
        live(p)
    other.locator("#cart-sheet > summary").click()  # someone else is looking at the cart

    order_dishes(page, menu["cucumber"])

    expect(page.locator("#flash")).to_contain_text("下单成功")
    for p in (page, other):
        expect(p.locator("#cart-sheet")).not_to_have_attribute("open", "")
        expect(p.locator("#tab a[href='pay/']")).to_be_visible()
        # In one step: a push may redraw the tab between two steps.
        on_top = p.evaluate("""() => {
          const pay = document.querySelector("#tab a[href='pay/']");
          pay.scrollIntoView({block: "center"});
          const box = pay.getBoundingClientRect();
          const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
          return hit.closest("a")?.getAttribute("href");
        }""")
        assert on_top == "pay/"
        assert p.evaluate("window.__notReloaded") is True


def test_the_options_form_closes_and_forgets_the_note_after_adding(server, phone, table, menu):
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)
    dish = page.locator(f"#dish-{menu['chicken'].pk}")
    dish.locator(".choose-link").click()
    options = dish.locator(".choose form")
    # Not squeezed beside the photo: the form takes the card's width.
    card, form = dish.bounding_box(), options.bounding_box()
    assert form["width"] > card["width"] * 0.8

    options.get_by_label("特辣").check()
    options.locator("input[name=note]").fill("不要香菜")
    options.locator("button.primary").click()

    expect(page.locator("#cart")).to_contain_text("不要香菜")
    expect(options).to_be_hidden()
    expect(dish.locator(".choose-link")).to_have_attribute("aria-expanded", "false")
    dish.locator(".choose-link").click()
    expect(options.locator("input[name=note]")).to_have_value("")
    expect(options.get_by_label("微辣")).to_be_checked()


def test_the_orders_and_the_bill_are_one_tap_away_from_anywhere_on_a_long_menu(
    server, phone, table, menu
):
    for n in range(30):
        Dish.objects.create(
            category=menu["chicken"].category, name=f"菜{n}", price=Decimal("10.00")
        )
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)
    expect(page.locator("#to-tab")).to_be_hidden()  # nothing ordered yet
    order_dishes(page, menu["cucumber"])

    page.evaluate("window.scrollTo(0, 0)")
    to_tab = page.locator("#to-tab")
    expect(to_tab).to_be_in_viewport()
    to_tab.click()
    expect(page.locator("#tab .line", has_text="拍黄瓜")).to_be_in_viewport()
    expect(page.locator("#tab a[href='pay/']")).to_be_in_viewport()
