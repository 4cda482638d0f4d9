"""The printer alert in Chromium: a real daphne serves the kitchen and cashier screens, a real
worker sends tickets to a fake network printer (tests/printing/fake_printer.py). While the
printer is off both screens show the alert; when it prints again the alert goes, and the
screens' own sockets stay live throughout."""

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from printing.models import Printer
from tests.browser.pages import live
from tests.live import Worker
from tests.printing.fake_printer import FakePrinter

pytestmark = pytest.mark.browser


def test_the_kitchen_and_the_cashier_see_a_dead_printer_until_it_prints(
    server, staff_screen, cook, cashier, menu, table, tmp_path
):
    fake = FakePrinter()
    fake.power_off()
    printer = Printer.objects.create(name="热菜打印机", host="127.0.0.1", port=fake.port)
    printer.stations.add(menu["hot_station"])
    screens = [
        staff_screen(server, "cook", "pw-cook", "/kitchen/"),
        staff_screen(server, "cashier", "pw-cashier", "/cashier/"),
    ]
    for screen in screens:
        live(screen)
        expect(screen.locator("#printer-alert")).to_be_hidden()
    worker = Worker("--every", "0.2", log_dir=tmp_path, env={"CHANNEL_PREFIX": server.prefix})
    try:
        worker.wait_for("worker: started", timeout=60)
        # Through daphne's API (this thread runs Playwright's event loop: no pushes from here).
        body = {
            "key": "k",
            "guests": 2,
            "lines": [{"dish": menu["chicken"].pk, "options": [menu["mild"].pk]}],
        }
        request = urllib.request.Request(
            f"{server.url}/api/v1/tables/{table.token}/orders",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201
        for screen in screens:
            alert = screen.locator("#printer-alert")
            expect(alert).to_be_visible()
            expect(alert).to_contain_text("热菜打印机")
            expect(alert).to_contain_text("连接不上")
            expect(alert).to_contain_text("1 张单待打印")
        fake.power_on()
        fake.wait_for(1, timeout=30)
        for screen in screens:
            expect(screen.locator("#printer-alert")).to_be_hidden()
            # The screen's own socket was never replaced by the alert's.
            expect(screen.locator("body")).to_have_attribute("data-live", "1")
            assert screen.evaluate("window.__notReloaded") is True
        expect(screens[0].locator("#tickets")).to_contain_text("宫保鸡丁")
    finally:
        worker.stop()
        fake.power_off()
    assert "宫保鸡丁 ×1" in fake.documents[0].big_lines()
