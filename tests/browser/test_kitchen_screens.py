"""Issue 12.10: a void never makes a ticket vanish, specs stand out, the pass's action is a
button."""

import pytest
from playwright.sync_api import expect

from orders import services as order_services
from orders.models import OrderLine
from tests.payments.conftest import seat

pytestmark = pytest.mark.browser


def test_a_ticket_whose_only_dish_was_voided_stays_struck_through(
    server, staff_screen, cook, table, menu
):
    tab = order_services.tab_for_table(table)
    order_services.order_submit(
        tab=tab, key="one", guests=1, lines=[order_services.LineRequest(dish=menu["fish"].pk)]
    )
    order_services.line_void(line_id=OrderLine.objects.get().pk, reason="客人不要了")

    kitchen = staff_screen(server, "cook", "pw-cook", "/kitchen/")
    line = kitchen.locator("#tickets .ticket .line", has_text="清蒸鲈鱼")
    expect(line).to_have_class("line status-voided")
    name = line.locator(".name")
    assert "line-through" in name.evaluate("el => getComputedStyle(el).textDecorationLine")


def test_a_spec_stands_out_from_the_dish_and_the_pass_action_is_a_button(
    server, staff_screen, cook, table, menu
):
    tab = seat(table, menu)  # 宫保鸡丁 微辣
    kitchen = staff_screen(server, "cook", "pw-cook", "/kitchen/")
    spec = kitchen.locator("#tickets .line", has_text="宫保鸡丁").locator(".opt", has_text="微辣")
    style = spec.evaluate(
        "el => { const s = getComputedStyle(el); return [s.color, s.fontWeight, s.fontSize]; }"
    )
    assert (
        style[0] in ("rgb(29, 29, 31)",)
        and int(style[1]) >= 700
        and float(style[2].removesuffix("px")) >= 16
    )

    line = tab.orders.get().lines.get(name="拍黄瓜")
    for status in ("cooking", "ready"):
        order_services.line_set_status(line_id=line.pk, status=status)
    runner = staff_screen(server, "cook", "pw-cook", "/kitchen/pass/")
    serve = runner.get_by_role("button", name="确认上菜")
    expect(serve).to_be_visible()
    serve.click()
    expect(runner.locator("#pass-board")).not_to_contain_text("拍黄瓜")
