"""Issue 12.10: specs stand out on a ticket, the pass's action is a button."""

import re

import pytest
from playwright.sync_api import expect

from orders import services as order_services
from tests.payments.conftest import seat

pytestmark = pytest.mark.browser


def test_a_spec_stands_out_from_the_dish_and_the_pass_action_is_a_button(
    server, staff_screen, cook, table, menu
):
    tab = seat(table, menu)  # 宫保鸡丁 微辣
    kitchen = staff_screen(server, "cook", "pw-cook", "/kitchen/")
    spec = kitchen.locator("#tickets .line", has_text="宫保鸡丁").locator(".opt", has_text="微辣")
    # Retried: the socket's first state replaces the board, and an element read while it is
    # being replaced has no computed style.
    expect(spec).to_have_css("color", "rgb(29, 29, 31)")
    expect(spec).to_have_css("font-weight", re.compile(r"^[7-9]00$"))
    expect(spec).to_have_css(
        "font-size", re.compile(r"^(1[6-9]|[2-9]\d|\d{3,})(\.\d+)?px$")
    )  # ≥ 16px

    line = tab.orders.get().lines.get(name="拍黄瓜")
    for status in ("cooking", "ready"):
        order_services.line_set_status(line_id=line.pk, status=status)
    runner = staff_screen(server, "cook", "pw-cook", "/kitchen/pass/")
    serve = runner.get_by_role("button", name="确认上菜")
    expect(serve).to_be_visible()
    serve.click()
    expect(runner.locator("#pass-board")).not_to_contain_text("拍黄瓜")
