"""Live pages log no htmx error: every stream's first stamp finds its element in the page
(`{% live_seq %}`), on the diner's phone, the kitchen, the pass and the cashier with a bill
open, through connecting and a round of pushes."""

import pytest
from playwright.sync_api import expect

from orders.models import Tab
from tests.browser.pages import live, order_dishes

pytestmark = pytest.mark.browser


def console_errors(page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def stamps(page):
    """{stream: number} of the page's sequence stamps; an id twice would be a stale copy."""
    found = page.evaluate(
        "[...document.querySelectorAll('.live-seq')].map(i => [i.id, i.dataset.stream,"
        " Number(i.dataset.seq)])"
    )
    ids = [row[0] for row in found]
    assert len(ids) == len(set(ids)), ids
    return {stream: seq for _id, stream, seq in found}


def test_no_page_logs_an_oob_error_while_connecting_and_taking_pushes(
    server, phone, staff_screen, cook, cashier, table, menu
):
    diner = phone()
    diner_errors = console_errors(diner)
    diner.goto(f"{server.url}/t/{table.token}/")  # no visit yet: the socket follows the table
    live(diner)
    screens = {
        "kitchen": staff_screen(server, "cook", "pw-cook", "/kitchen/"),
        "hot": staff_screen(server, "cook", "pw-cook", "/kitchen/hot/"),
        "pass": staff_screen(server, "cook", "pw-cook", "/kitchen/pass/"),
    }
    errors = {name: console_errors(page) for name, page in screens.items()}
    errors["diner"] = diner_errors
    for page in screens.values():
        page.reload()  # watched from the first byte: connecting is when the error came
        live(page)

    # The first order opens the visit: the phone's socket follows its stream from then on.
    order_dishes(diner, menu["cucumber"], menu["fish"])
    tab = Tab.objects.get(table=table)
    expect(screens["kitchen"].locator("#tickets .ticket")).to_have_count(1)
    cashier_screen = staff_screen(server, "cashier", "pw-cashier", f"/cashier/?tab={tab.pk}")
    errors["cashier"] = console_errors(cashier_screen)
    cashier_screen.reload()
    live(cashier_screen)
    screens["cashier"] = cashier_screen

    order_dishes(diner, menu["cucumber"])  # a second round: the bill and the floor change
    expect(cashier_screen.locator("#bill-pane")).to_contain_text("¥112")
    expect(screens["kitchen"].locator("#tickets .ticket")).to_have_count(2)
    fish = screens["hot"].locator("#tickets .line", has_text="清蒸鲈鱼")
    fish.locator("button.bump").click()
    expect(fish).to_have_class("line status-cooking")
    fish.locator("button.bump").click()
    expect(screens["pass"].locator("#pass-board")).to_contain_text("清蒸鲈鱼")
    expect(diner.locator("#tab .line", has_text="清蒸鲈鱼")).to_have_class("line status-ready")

    # Every stream's stamp moved on from the page's 0: the pushes replaced them in place.
    assert stamps(diner)[f"tab.{tab.pk}"] > 0 and "menu" in stamps(diner)
    assert stamps(screens["kitchen"])["kitchen"] > 0
    assert stamps(screens["pass"])["pass"] > 0
    cashier_stamps = stamps(cashier_screen)
    assert cashier_stamps["cashier"] > 0 and cashier_stamps[f"cashier.tab.{tab.pk}"] > 0
    for name, logged in errors.items():
        assert [text for text in logged if "oobErrorNoTarget" in text] == [], name
        assert [text for text in logged if "htmx" in text] == [], name
