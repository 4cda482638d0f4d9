"""Notifications of both real gateways against their simulators, the same cases for each:
replayed, sent at once, for an order that is not ours, and out of order (a refund's notice
before the payment's own, which the query had already booked). Over real HTTP, the
simulators' `held` delivery and `/sim/release` deliver them reversed and duplicated to a
mailbox, and the product gets them in that order. Each case ends with one payment and the
books to the fen. Each gateway's own cases (forgeries, tampering, expiry) stay in
test_wechatpay.py and test_alipay.py."""

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from payments import services
from payments.gateway_settings import alipay_from_env, wechatpay_from_env
from payments.models import LedgerEntry, Payment, Refund

from . import test_alipay, test_wechatpay
from .conftest import ledger_sum, seat

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=1)  # past the query's SETTLE_AFTER


class WeChat:
    name = "wechatpay"

    def __init__(self, sim):
        self.sim = sim

    def start(self, tab, **kwargs):
        return test_wechatpay.start(tab, **kwargs)

    def approve(self, payment):
        assert self.sim.decide(payment.reference)[0] == 200

    def notice(self, payment, **overrides):
        return self.sim.notification(payment.reference, **overrides)

    def post(self, client, notice):
        return test_wechatpay.post(client, *notice)

    def taken(self, answer):
        return answer.status_code == 204

    def refused(self, answer):
        return answer.status_code >= 400 and answer.json()["code"] == "FAIL"


class Alipay(WeChat):
    name = "alipay"

    def start(self, tab, **kwargs):
        return test_alipay.start(tab, **kwargs)

    def approve(self, payment):
        test_alipay.scan(self.sim, payment)
        assert self.sim.decide(payment.reference)[0] == 200

    def post(self, client, notice):
        return test_alipay.post(client, notice)

    def taken(self, answer):
        return answer.status_code == 200 and answer.content == b"success"

    def refused(self, answer):
        return answer.status_code >= 400 and answer.content == b"fail"


@pytest.fixture(params=["wechatpay", "alipay"])
def gateway(request):
    if request.param == "wechatpay":
        return WeChat(request.getfixturevalue("sim"))
    return Alipay(request.getfixturevalue("alisim"))


def books(tab):
    settlement, _due = services.amount_due(tab.pk)
    return {
        "succeeded": Payment.objects.filter(tab=tab, status="succeeded").count(),
        "paid": settlement["paid"],
        "refunded": settlement["refunded"],
        "ledger": ledger_sum(tab_id=tab.pk),
        "entries": LedgerEntry.objects.filter(tab_id=tab.pk).count(),
    }


def test_a_notification_replayed_100_times_records_one_payment(gateway, client, tab):
    payment = gateway.start(tab)
    gateway.approve(payment)
    notice = gateway.notice(payment)
    assert all(gateway.taken(gateway.post(client, notice)) for _ in range(100))
    assert books(tab) == {"succeeded": 1, "paid": "50.00", "refunded": "0.00",
                          "ledger": 50, "entries": 1}  # fmt: skip
    assert payment.events.filter(to_status="succeeded").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_notification_sent_20_times_at_once_records_one_payment(
    needs_postgres, gateway, table, menu
):
    tab = seat(table, menu)
    payment = gateway.start(tab)
    gateway.approve(payment)
    notice = gateway.notice(payment)
    barrier = threading.Barrier(20)
    answers = [None] * 20

    def run(i):
        try:
            barrier.wait()
            answers[i] = gateway.taken(gateway.post(Client(), notice))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [True] * 20
    assert Payment.objects.get().status == "succeeded"
    assert LedgerEntry.objects.count() == 1 and ledger_sum() == 50


def test_a_signed_notification_of_an_order_not_ours_is_refused_and_changes_nothing(
    gateway, client, tab
):
    payment = gateway.start(tab)
    gateway.approve(payment)
    answer = gateway.post(client, gateway.notice(payment, out_trade_no="dc-not-ours"))
    assert gateway.refused(answer) and answer.status_code == 404
    payment.refresh_from_db()
    assert payment.status == "pending" and not LedgerEntry.objects.exists()
    assert gateway.taken(gateway.post(client, gateway.notice(payment)))  # ours still counts


def test_a_payments_notice_after_its_refund_changes_nothing(gateway, client, api, tab, commits):
    """The payment's notice is late: the query booked the payment, the cashier gave 10 back
    (WeChat: its refund notice settled it; Alipay refunds at once), then the payment's own
    notice arrives. One payment, one refund, the books to the fen."""
    payment = gateway.start(tab)
    gateway.approve(payment)
    late = gateway.notice(payment)  # what the gateway sent at once, held up on the way
    with commits():
        assert services.gateways_settle(now=timezone.now() + LATER) == 1
    with commits():
        answer = api.staff_post(
            f"/payments/{payment.pk}/refunds", {"amount": "10", "reason": "少上一道菜", "key": "r1"}
        )
    assert answer.status_code == 201, answer.content
    refund = Refund.objects.get()
    if gateway.name == "wechatpay":
        assert refund.status == "pending"  # PROCESSING at WeChat until its notice
        with commits():
            notice = test_wechatpay.settled_refund(gateway.sim, refund)
            assert gateway.taken(gateway.post(client, notice))
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    with commits():
        assert gateway.taken(gateway.post(client, late))
    assert books(tab) == {"succeeded": 1, "paid": "50.00", "refunded": "10.00",
                          "ledger": 40, "entries": 2}  # fmt: skip


# Over real HTTP: the simulators hold their notifications and release them out of order -----


class Mailbox:
    """Where the simulator delivers: keeps each notification as it came (answered as taken),
    so that the test hands them to the product in the order they arrived."""

    def __init__(self):
        arrived = self.arrived = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived.append((dict(self.headers), body))
                answer = b"success" if "form" in self.headers.get("Content-Type", "") else b""
                self.send_response(200 if answer else 204)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.arrived) < count:
            assert time.monotonic() < deadline, self.arrived
            time.sleep(0.05)
        return list(self.arrived)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mailbox():
    box = Mailbox()
    yield box
    box.close()


def wait_for(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_wechat_notices_held_then_released_reversed_and_twice_end_right(
    settings, sim, mailbox, client, api, tab, commits
):
    """WeChat's notices of a payment and of its refund, held at the gateway, come reversed and
    each twice: refund, refund, payment, payment. The query had booked the payment; the
    refund's notice settles the refund once; the payment's are replays."""
    env = {**sim.env, "WECHATPAY_TIMEOUT": "1", "WECHATPAY_NOTIFY_URL": mailbox.url}
    settings.WECHATPAY = wechatpay_from_env(env, public_url=settings.PUBLIC_URL)
    sim.controls(delivery="held", retry_delays=[0])
    payment = test_wechatpay.start(tab)
    sim.decide(payment.reference)
    with commits():
        assert services.gateways_settle(now=timezone.now() + LATER) == 1
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "12.5", "reason": "退菜"})
    wait_for(lambda: len(sim.call("/sim/held")[1]) == 2)
    released = sim.call("/sim/release", {"order": "reversed", "times": 2})[1]["released"]
    assert [kind for kind, _key in released] == ["refund", "transaction"]
    arrived = mailbox.wait_for(4)
    kinds = [json.loads(body)["event_type"] for _headers, body in arrived]
    assert kinds == ["REFUND.SUCCESS"] * 2 + ["TRANSACTION.SUCCESS"] * 2
    for headers, body in arrived:
        with commits():
            assert test_wechatpay.post(client, headers, body).status_code == 204
    assert Refund.objects.get().status == "succeeded"
    assert books(tab) == {"succeeded": 1, "paid": "50.00", "refunded": "12.50",
                          "ledger": Decimal("37.50"), "entries": 2}  # fmt: skip


def test_alipay_notices_held_then_released_late_and_twice_end_right(
    settings, alisim, mailbox, client, tab, commits
):
    """Alipay's notice, held until the query has booked the payment, comes twice: replays."""
    env = {**alisim.env, "ALIPAY_TIMEOUT": "1", "ALIPAY_NOTIFY_URL": mailbox.url}
    settings.ALIPAY = alipay_from_env(env, public_url=settings.PUBLIC_URL)
    alisim.controls(delivery="held", retry_delays=[0])
    payment = test_alipay.start(tab)
    test_alipay.scan(alisim, payment)
    alisim.decide(payment.reference)
    with commits():
        assert services.gateways_settle(now=timezone.now() + LATER) == 1
    assert alisim.call("/sim/release", {"times": 2})[1]["released"] == [[payment.reference]]
    for _headers, body in mailbox.wait_for(2):
        fields = dict(parse_qsl(body.decode()))
        assert fields["trade_status"] == "TRADE_SUCCESS"
        with commits():
            answer = test_alipay.post(client, fields)
        assert answer.content == b"success"
    assert books(tab) == {"succeeded": 1, "paid": "50.00", "refunded": "0.00",
                          "ledger": 50, "entries": 1}  # fmt: skip
