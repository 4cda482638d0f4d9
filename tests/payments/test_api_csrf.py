"""A cashier's browser session is not a key to the staff API for other sites: an unsafe call
made with the session cookie must pass Django's CSRF check, as a form would. Device tokens
(the Authorization header, which no other site can make a browser send) need none."""

import json

import pytest
from django.test import Client

from payments.models import LedgerEntry, Payment

pytestmark = pytest.mark.django_db


def cash(tab):
    return {"method": "cash", "amount": "50.00", "version": tab.version, "key": "forged"}


@pytest.fixture
def browser_of(cashier):
    """The cashier's own browser, logged in, with Django's real CSRF checks."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(cashier)
    return client


def test_a_cross_site_text_plain_post_with_the_cashiers_cookie_records_nothing(browser_of, tab):
    answer = browser_of.post(
        f"/api/v1/tabs/{tab.pk}/payments",
        json.dumps(cash(tab)),
        content_type="text/plain",
        headers={"Origin": "https://elsewhere.example", "Referer": "https://elsewhere.example/"},
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "csrf_failed" and "CSRF" in answer.json()["message"]
    assert not Payment.objects.exists() and not LedgerEntry.objects.exists()


def test_a_json_post_without_the_token_is_refused_too(browser_of, tab):
    answer = browser_of.post(
        f"/api/v1/tabs/{tab.pk}/payments", cash(tab), content_type="application/json"
    )
    assert answer.status_code == 403
    assert not Payment.objects.exists()


def test_the_cashiers_own_page_with_the_token_still_pays(browser_of, tab):
    browser_of.get("/cashier/")  # sets the CSRF cookie, as the cashier's page does
    token = browser_of.cookies["csrftoken"].value
    answer = browser_of.post(
        f"/api/v1/tabs/{tab.pk}/payments",
        cash(tab),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 201
    assert Payment.objects.count() == 1


def test_a_device_token_needs_no_csrf_token(tab, cashier_token):
    client = Client(enforce_csrf_checks=True)
    answer = client.post(
        f"/api/v1/tabs/{tab.pk}/payments",
        cash(tab),
        content_type="application/json",
        headers={"Authorization": f"Bearer {cashier_token}"},
    )
    assert answer.status_code == 201


def test_reading_with_the_session_needs_no_token(browser_of, tab):
    assert browser_of.get(f"/api/v1/tabs/{tab.pk}/settlement").status_code == 200
