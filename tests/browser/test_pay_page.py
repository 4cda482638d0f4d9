"""Issue 12.2 and 12.5: the diner's pay page, in Chromium at phone size."""

import pytest
from playwright.sync_api import expect

from payments.models import Payment
from tests.browser.pages import live
from tests.payments.conftest import seat

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.SANDBOX_GATEWAY = True
    settings.SANDBOX_GATEWAY_SECRET = "test-sandbox-secret"


def test_a_table_of_one_pays_the_whole_bill_by_qr(server, phone, table, menu):
    seat(table, menu, guests=1)
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)

    page.locator("#pay-form button.primary").click()

    expect(page.locator(".payment-box")).to_have_attribute("data-status", "pending")
    assert Payment.objects.get().amount == 50
