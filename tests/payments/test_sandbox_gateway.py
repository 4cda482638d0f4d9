"""QR payments through the sandbox gateway: signed notifications, replays, forgeries, wrong
amounts, declines, expiry, and two phones paying the same bill at once."""

import json
import logging
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import Tab
from payments import services
from payments.models import LedgerEntry, Payment, Refund, SandboxCharge
from payments.providers import sandbox

from .conftest import approve, charge_of, lapse, ledger_sum, notify, qr_payment

pytestmark = pytest.mark.django_db


def test_a_phone_starts_a_qr_payment_and_gets_a_code_url(api, table, tab):
    body = {"method": "qr", "amount": "50.00", "version": tab.version, "key": "phone-a"}
    answer = api.post(f"/tables/{table.token}/payments", body)
    assert answer.status_code == 201
    payment = answer.json()["payment"]
    assert payment["status"] == "pending"
    assert "/sandbox/pay/sbx" in payment["code_url"]
    assert answer.json()["settlement"]["balance_due"] == "50.00"  # nothing taken yet
    page = Client().get(payment["code_url"].split("127.0.0.1:8000")[-1])
    assert page.status_code == 200 and "50.00" in page.content.decode()


def test_a_signed_notification_completes_the_payment_and_settles_the_tab(client, tab, commits):
    payment = qr_payment(tab)
    with commits():
        answer = notify(client, approve(payment))
    assert answer.status_code == 200 and answer.json()["code"] == "SUCCESS"
    payment.refresh_from_db()
    assert (
        payment.status == "succeeded" and payment.gateway_txn == charge_of(payment).transaction_id
    )
    assert Tab.objects.get(pk=tab.pk).status == "settled"
    assert ledger_sum(account="qr") == 50


def test_a_notification_replayed_100_times_records_one_payment(client, tab):
    payment = qr_payment(tab)
    charge = approve(payment)
    body = sandbox.notification_body(charge)
    answers = {notify(client, charge, body=body).status_code for _ in range(100)}
    assert answers == {200}
    assert Payment.objects.filter(status="succeeded").count() == 1
    assert LedgerEntry.objects.count() == 1 and ledger_sum() == 50
    assert payment.events.filter(to_status="succeeded").count() == 1


def test_a_forged_notification_is_refused_changes_nothing_and_is_logged(client, tab, caplog):
    payment = qr_payment(tab)
    charge = approve(payment)
    version = Tab.objects.get(pk=tab.pk).version
    with caplog.at_level(logging.WARNING, logger="payments"):
        answer = notify(client, charge, secret="not-the-secret")
    assert answer.status_code == 401 and answer.json()["code"] == "FAIL"
    assert "bad_signature" in caplog.text
    payment.refresh_from_db()
    assert payment.status == "pending" and not LedgerEntry.objects.exists()
    assert Tab.objects.get(pk=tab.pk).version == version


def test_an_unsigned_or_stale_notification_is_refused(client, tab, caplog):
    charge = approve(qr_payment(tab))
    with caplog.at_level(logging.WARNING, logger="payments"):
        assert notify(client, charge, headers={}).status_code == 401
        old = int(time.time()) - 301
        assert notify(client, charge, timestamp=old).status_code == 400
    assert "unsigned" in caplog.text and "stale" in caplog.text
    assert not Payment.objects.filter(status="succeeded").exists()


def test_a_signed_body_that_was_tampered_with_is_refused(client, tab):
    charge = approve(qr_payment(tab))
    body = sandbox.notification_body(charge)
    headers = sandbox.signed_headers(body, secret="test-sandbox-secret")
    tampered = body.replace(b'"total":5000', b'"total":1')
    answer = notify(client, charge, body=tampered, headers=headers)
    assert answer.status_code == 401
    assert not Payment.objects.filter(status="succeeded").exists()


def test_a_notification_for_the_wrong_amount_is_refused_and_logged(client, tab, caplog):
    payment = qr_payment(tab)
    charge = approve(payment)
    data = json.loads(sandbox.notification_body(charge))
    data["resource"]["amount"]["total"] = 100
    with caplog.at_level(logging.WARNING, logger="payments"):
        answer = notify(client, charge, body=json.dumps(data).encode())
    assert answer.status_code == 400 and "wrong_amount" in caplog.text
    payment.refresh_from_db()
    assert payment.status == "pending" and not LedgerEntry.objects.exists()


def test_a_notification_of_an_unknown_payment_is_refused(client, tab):
    charge = approve(qr_payment(tab))
    data = json.loads(sandbox.notification_body(charge))
    data["resource"]["out_trade_no"] = "dc-nobody"
    assert notify(client, charge, body=json.dumps(data).encode()).status_code == 404
    assert notify(client, charge, body=b"not json").status_code == 400


def test_a_declined_payment_fails_and_the_phone_can_try_again(client, tab, commits):
    payment = qr_payment(tab)
    charge = sandbox.gateway_decide(charge_of(payment).pk, approve=False)
    assert notify(client, charge).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "failed" and payment.failure
    retry = qr_payment(tab, key="phone-1-again")
    with commits():
        notify(client, approve(retry))
    assert Payment.objects.filter(status="succeeded").count() == 1
    assert Tab.objects.get(pk=tab.pk).status == "settled"


def test_a_payment_never_completed_expires_and_leaves_the_tab_as_it_was(tab):
    payment = qr_payment(tab)
    before = services.amount_due(tab.pk)[0]
    expired = services.payments_expire_due(now=timezone.now() + timedelta(minutes=11))
    assert expired == 1
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert charge_of(payment).status == SandboxCharge.Status.CLOSED
    # The gateway no longer lets the phone pay it.
    with pytest.raises(sandbox.SandboxError):
        approve(payment)
    after = services.amount_due(tab.pk)[0]
    assert (after["version"], after["balance_due"], after["paid"]) == (
        before["version"],
        before["balance_due"],
        before["paid"],
    )


def test_a_payment_is_not_expired_while_it_is_young(tab):
    payment = qr_payment(tab)
    assert services.payments_expire_due() == 0
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_two_phones_paying_the_whole_bill_are_never_both_kept(client, tab, commits):
    """Two payments of the whole bill are never under way at once (test_limits.py), but one
    that ran past its expiry while its phone was paying can still be taken by the gateway."""
    first = lapse(qr_payment(tab, key="phone-a"))
    second = qr_payment(tab, key="phone-b")  # same version: both saw the same bill
    charges = [approve(first), approve(second)]  # the gateway took both
    with commits():
        for charge in charges:
            assert notify(client, charge).status_code == 200
    settlement = services.amount_due(tab.pk)[0]
    assert (settlement["paid"], settlement["refunded"], settlement["balance_due"]) == (
        "100.00",
        "50.00",
        "0.00",
    )
    refund = Refund.objects.get()
    assert refund.payment_id == second.pk and refund.automatic and refund.status == "succeeded"
    assert charge_of(second).refunded_cents == 5000
    assert ledger_sum(tab_id=tab.pk) == 50  # payments minus refunds is the bill


def test_when_the_bill_is_paid_the_other_phones_payment_is_closed(client, tab, commits):
    second = lapse(qr_payment(tab, key="phone-b"))
    first = qr_payment(tab, key="phone-a")
    with commits():
        notify(client, approve(first))
    second.refresh_from_db()
    assert second.status == "cancelled"
    with pytest.raises(sandbox.SandboxError):
        approve(second)


def test_a_diner_cannot_start_more_than_is_due(api, table, tab):
    body = {"method": "qr", "amount": "50.01", "version": tab.version, "key": "k"}
    answer = api.post(f"/tables/{table.token}/payments", body)
    assert answer.status_code == 400 and answer.json()["error"] == "over_balance"
    assert not Payment.objects.exists() and not SandboxCharge.objects.exists()


def test_the_sandbox_is_off_unless_switched_on(settings, api, table, tab, client):
    settings.SANDBOX_GATEWAY = False
    body = {"method": "qr", "amount": "50", "version": tab.version, "key": "k"}
    answer = api.post(f"/tables/{table.token}/payments", body)
    assert answer.status_code == 400 and answer.json()["error"] == "method_unavailable"
    assert (
        client.post(
            "/api/v1/payments/notify/sandbox", b"{}", content_type="application/json"
        ).status_code
        == 404
    )
