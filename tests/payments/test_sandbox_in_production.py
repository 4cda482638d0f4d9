"""The sandbox gateway (anyone may approve a payment there) on a real site: off unless
SANDBOX_GATEWAY=true names it, and never with the development secret published in the code,
with which anyone could sign a notification."""

import pytest

from payments import conf
from tests.production import manage

from .conftest import charge_of, notify, qr_payment

OWN_SECRET = "s3cret-of-this-restaurant-" + "x" * 20
SHOW = "from payments import conf; print('sandbox', conf.sandbox_enabled())"


def test_with_debug_off_the_sandbox_is_off_by_default():
    result = manage("shell", "-c", SHOW)
    assert result.returncode == 0, result.stderr
    assert "sandbox False" in result.stdout


@pytest.mark.parametrize("secret", ["", conf.DEV_SANDBOX_SECRET, "short"])
def test_switched_on_by_name_it_needs_a_secret_of_its_own(secret):
    result = manage("check", SANDBOX_GATEWAY="true", SANDBOX_GATEWAY_SECRET=secret)
    assert result.returncode != 0
    assert "SANDBOX_GATEWAY_SECRET must be a secret of 32+ characters" in result.stderr


def test_switched_on_by_name_with_its_own_secret_it_runs():
    result = manage("shell", "-c", SHOW, SANDBOX_GATEWAY="true", SANDBOX_GATEWAY_SECRET=OWN_SECRET)
    assert result.returncode == 0, result.stderr
    assert "sandbox True" in result.stdout


@pytest.mark.django_db
def test_settings_changed_later_still_never_take_the_published_secret(
    settings, api, table, tab, client
):
    payment = qr_payment(tab)
    settings.DEBUG = False
    settings.SANDBOX_GATEWAY_SECRET = conf.DEV_SANDBOX_SECRET
    assert notify(client, charge_of(payment), secret=conf.DEV_SANDBOX_SECRET).status_code == 404
    body = {"method": "qr", "amount": "50", "version": tab.version, "key": "again"}
    answer = api.post(f"/tables/{table.token}/payments", body)
    assert answer.status_code == 400 and answer.json()["error"] == "method_unavailable"
    payment.refresh_from_db()
    assert payment.status == "pending"
