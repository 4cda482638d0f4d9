"""Fault drill: a payment gateway that times out or answers 500 during a payment.

A real daphne serves both sides: our client reaches the sandbox gateway over HTTP
(`SANDBOX_TRANSPORT=http`, a 2 s time-out) and the gateway notifies us over HTTP. The faults
are the gateway's own, planned through its signed fault switch (`/sandbox/faults/`): it answers
late after doing the work, answers 500 without doing it, or drops its notification. Nothing in
our code is patched. The worker's job (`gateways_settle`, `payments_expire_due`) runs in this
process and calls the gateway over the same HTTP path.

Every payment ends known-paid or known-unpaid once the gateway has been asked, and a bill is
never paid twice: one ledger entry per payment taken, the books equal to the bill.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments import services
from payments.models import LedgerEntry, Payment, SandboxCharge
from payments.providers import sandbox
from tests.live import Daphne
from tests.payments.conftest import seat

SECRET = "drill-sandbox-secret"
TIMEOUT = 2  # seconds our client waits for the gateway
LATER = timedelta(seconds=31)  # past SETTLE_AFTER and a settle claim


@pytest.fixture
def gateway(transactional_db, settings, tmp_path):
    env = {
        "SANDBOX_GATEWAY": "true",
        "SANDBOX_GATEWAY_SECRET": SECRET,
        "SANDBOX_TRANSPORT": "http",
        "SANDBOX_TIMEOUT_SECONDS": str(TIMEOUT),
        "SANDBOX_DELIVERY": "http",
        "SERVICE_FLOW": "pay_later",
    }
    server = Daphne(prefix="gatewayfaults", log_dir=tmp_path, env=env)
    settings.SANDBOX_GATEWAY = True
    settings.SANDBOX_GATEWAY_SECRET = SECRET
    settings.SANDBOX_TRANSPORT = "http"
    settings.SANDBOX_GATEWAY_URL = server.url
    settings.SANDBOX_TIMEOUT_SECONDS = TIMEOUT
    settings.PUBLIC_URL = server.url
    settings.SERVICE_FLOW = "pay_later"
    yield server
    server.stop()


def post(url, body, *, signed=False, form=False):
    data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
    if signed:
        headers.update(sandbox.signed_headers(data, secret=SECRET))
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def fault(server, op, kind, times=1):
    status, body = post(
        f"{server.url}/sandbox/faults/", {"op": op, "fault": kind, "times": times}, signed=True
    )
    assert status == 200, body


def start(server, table, tab, key, amount="50.00"):
    """A phone starts a QR payment through the diner API: (status, payment as answered)."""
    tab.refresh_from_db()
    status, body = post(
        f"{server.url}/api/v1/tables/{table.token}/payments",
        {"method": "qr", "amount": amount, "version": tab.version, "key": key},
    )
    assert status in (200, 201), body
    return json.loads(body)["payment"]


def approve(server, payment, action="approve"):
    """The payer approves (or declines) on the gateway's page, over HTTP."""
    charge = SandboxCharge.objects.get(out_trade_no=Payment.objects.get(pk=payment).reference)
    status, body = post(
        f"{server.url}/sandbox/pay/{charge.pk}/decide/", {"action": action}, form=True
    )
    assert status == 200, body[-2000:]
    return charge


def books(tab):
    settlement, _due = services.amount_due(tab.pk)
    entries = LedgerEntry.objects.filter(tab_id=tab.pk)
    return {
        "paid": settlement["paid"],
        "balance_due": settlement["balance_due"],
        "ledger": sum((e.amount for e in entries), start=Decimal(0)),
        "entries": entries.count(),
        "succeeded": Payment.objects.filter(tab=tab, status="succeeded").count(),
    }


def wait_for(condition, timeout=15):
    deadline = timezone.now() + timedelta(seconds=timeout)
    while not condition():
        assert timezone.now() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.parametrize("kind", ["timeout", "error"])
def test_a_start_the_gateway_answers_late_or_with_500_ends_known_unpaid(gateway, table, menu, kind):
    """A late answer: the gateway made the charge, we never got its code. We say the payment
    failed and close the charge at the gateway, so nobody can ever pay it; a 500: nothing was
    made. Either way the phone starts again and pays once."""
    tab = seat(table, menu)
    fault(gateway, "create", kind)
    failed = start(gateway, table, tab, "first")
    assert failed["status"] == "failed" and failed["code_url"] == ""
    reference = Payment.objects.get(pk=failed["id"]).reference
    orphan = SandboxCharge.objects.filter(out_trade_no=reference).first()
    if kind == "timeout":
        assert orphan is not None and orphan.status == SandboxCharge.Status.CLOSED
        with pytest.raises(sandbox.SandboxError):
            sandbox.gateway_decide(orphan.pk, approve=True)  # the charge cannot be paid
    else:
        assert orphan is None

    second = start(gateway, table, tab, "second")
    assert second["status"] == "pending" and "/sandbox/pay/" in second["code_url"]
    approve(gateway, second["id"])
    wait_for(lambda: Payment.objects.get(pk=second["id"]).status == "succeeded")
    assert services.gateways_settle(now=timezone.now() + LATER) == 0
    assert books(tab) == {
        "paid": "50.00",
        "balance_due": "0.00",
        "ledger": Decimal("50.00"),
        "entries": 1,
        "succeeded": 1,
    }


def test_a_lost_notification_is_settled_by_the_query_through_its_time_out_and_500(
    gateway, table, menu
):
    """The payer paid; the gateway's notification never came. The worker's query times out,
    then gets a 500: the payment stays pending (unknown is not failed). The next query says
    paid: booked once. The notification that finally comes, and later queries, change nothing."""
    tab = seat(table, menu)
    payment = start(gateway, table, tab, "phone")
    fault(gateway, "notify", "drop")
    charge = approve(gateway, payment["id"])
    assert Payment.objects.get(pk=payment["id"]).status == "pending"

    fault(gateway, "query", "timeout")
    assert services.gateways_settle(now=timezone.now() + LATER) == 0
    assert Payment.objects.get(pk=payment["id"]).status == "pending"
    fault(gateway, "query", "error")
    assert services.gateways_settle(now=timezone.now() + 2 * LATER) == 0
    assert Payment.objects.get(pk=payment["id"]).status == "pending"
    assert books(tab)["entries"] == 0

    assert services.gateways_settle(now=timezone.now() + 3 * LATER) == 1
    paid = Payment.objects.get(pk=payment["id"])
    assert paid.status == "succeeded" and paid.gateway_txn == charge.transaction_id

    # The gateway's notification arrives after all (its retry), twice: nothing changes.
    charge.refresh_from_db()
    body = sandbox.notification_body(charge)
    for _ in range(2):
        request = urllib.request.Request(
            f"{gateway.url}/api/v1/payments/notify/sandbox",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                **sandbox.signed_headers(body, secret=SECRET),
            },
        )
        with urllib.request.urlopen(request, timeout=15) as answer:
            assert answer.status == 200
    assert services.gateways_settle(now=timezone.now() + 4 * LATER) == 0
    assert books(tab) == {
        "paid": "50.00",
        "balance_due": "0.00",
        "ledger": Decimal("50.00"),
        "entries": 1,
        "succeeded": 1,
    }


def test_a_decline_whose_notification_is_lost_is_known_unpaid_after_the_query(gateway, table, menu):
    tab = seat(table, menu)
    payment = start(gateway, table, tab, "phone")
    fault(gateway, "notify", "drop")
    approve(gateway, payment["id"], action="decline")
    assert services.gateways_settle(now=timezone.now() + LATER) == 1
    assert Payment.objects.get(pk=payment["id"]).status == "failed"
    assert books(tab)["entries"] == 0 and books(tab)["balance_due"] == "50.00"
    # Known unpaid: the bill can be paid, once.
    again = start(gateway, table, tab, "again")
    approve(gateway, again["id"])
    wait_for(lambda: Payment.objects.get(pk=again["id"]).status == "succeeded")
    assert books(tab)["entries"] == 1 and books(tab)["paid"] == "50.00"


def test_an_expiry_whose_close_times_out_waits_and_a_late_payment_is_booked_once(
    gateway, table, menu
):
    """The worker closes an overdue payment at the gateway first; the close gets a 500: the
    payment stays pending rather than being called expired (it may still be paid). The payer
    pays meanwhile and the notification is lost: the query books it, once."""
    tab = seat(table, menu)
    payment = start(gateway, table, tab, "phone")
    fault(gateway, "close", "error")
    overdue = timezone.now() + timedelta(minutes=11)
    assert services.payments_expire_due(now=overdue) == 0
    assert Payment.objects.get(pk=payment["id"]).status == "pending"
    fault(gateway, "notify", "drop")
    approve(gateway, payment["id"])
    # Asked again once the expiry's two-minute claim has run out.
    assert services.gateways_settle(now=overdue + timedelta(minutes=3)) == 1
    assert Payment.objects.get(pk=payment["id"]).status == "succeeded"
    assert services.payments_expire_due(now=overdue + timedelta(minutes=6)) == 0
    assert books(tab) == {
        "paid": "50.00",
        "balance_due": "0.00",
        "ledger": Decimal("50.00"),
        "entries": 1,
        "succeeded": 1,
    }


@pytest.mark.parametrize("kind", ["timeout", "error"])
def test_a_refund_whose_answer_was_lost_is_settled_by_the_refund_query_given_back_once(
    gateway, table, menu, cashier, kind
):
    """The gateway gave the money back but its answer came too late (timeout), or it answered
    500 without doing it (error): the refund stays pending (unknown is not failed). The
    worker's refund query finds it given back, or finds nothing and sends it again under the
    same refund number: either way it is given back once and the books balance."""
    from payments.models import Refund, SandboxRefund

    tab = seat(table, menu)
    payment = start(gateway, table, tab, "phone")
    charge = approve(gateway, payment["id"])
    wait_for(lambda: Payment.objects.get(pk=payment["id"]).status == "succeeded")
    fault(gateway, "refund", kind)
    refund = services.refund_create(
        payment_id=payment["id"], amount=Decimal("12.00"), reason="退菜", user=cashier
    )
    refund.refresh_from_db()
    assert refund.status == "pending"
    charge.refresh_from_db()
    assert charge.refunded_cents == (1200 if kind == "timeout" else 0)

    fault(gateway, "refund_query", "error")  # the first query gets no answer either
    services.gateways_settle(now=timezone.now() + LATER)
    assert Refund.objects.get(pk=refund.pk).status == "pending"
    services.gateways_settle(now=timezone.now() + 2 * LATER)
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.gateway_refund
    charge.refresh_from_db()
    assert charge.refunded_cents == 1200 and SandboxRefund.objects.count() == 1
    assert SandboxRefund.objects.get().refund_id == refund.gateway_refund
    services.gateways_settle(now=timezone.now() + 3 * LATER)  # nothing more to ask
    charge.refresh_from_db()
    assert charge.refunded_cents == 1200
    entries = LedgerEntry.objects.filter(tab_id=tab.pk)
    assert sum((e.amount for e in entries), start=Decimal(0)) == Decimal("38.00")
