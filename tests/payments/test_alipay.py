"""Alipay against the simulator (simulators/alipay.py) over real HTTP, with python-alipay-sdk
signing requests, verifying answers and notifications: precreate and wap.pay, notifications
(forged, tampered, wrong amount, app or seller, stale, replayed), close on expiry, refunds."""

import logging
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from orders.models import Tab
from payments import services
from payments.gateway_settings import GatewayConfigError, alipay_from_env
from payments.models import LedgerEntry, Payment, Refund
from payments.providers.alipay import refund_number
from payments.providers.base import StartContext

from .conftest import ledger_sum
from .test_wechatpay import DESKTOP, IPHONE

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/payments/notify/alipay"


def start(tab, amount="50.00", key="phone-1", user_agent=DESKTOP):
    payment, _created = services.payment_start(
        tab_id=tab.pk,
        method="qr",
        amount=Decimal(amount),
        version=tab.version,
        key=key,
        gateway="alipay",
        context=StartContext(
            user_agent=user_agent,
            client_ip="127.0.0.1",
            return_url=f"http://127.0.0.1:8000/t/{tab.table.token}/pay/",
            token=tab.table.token,
        ),
    )
    return Payment.objects.get(pk=payment.pk)


def post(client, fields):
    return client.post(NOTIFY, urlencode(fields), content_type="application/x-www-form-urlencoded")


def scan(sim, payment):
    """The buyer scans the precreated code: the simulator's cashier page opens."""
    with urllib.request.urlopen(payment.code_url, timeout=10) as page:
        assert page.status == 200


def paid(sim, payment, client):
    scan(sim, payment)
    assert sim.decide(payment.reference)[0] == 200
    answer = post(client, sim.notification(payment.reference))
    assert answer.status_code == 200 and answer.content == b"success", answer.content
    payment.refresh_from_db()
    return payment


# Starting -------------------------------------------------------------------------------------


def test_a_desktop_gets_a_precreated_qr_code(alisim, tab):
    payment = start(tab, amount="12.30")
    assert payment.status == "pending" and payment.provider == "alipay"
    assert payment.code_url.startswith(alisim.url + "/cashier/")
    order = alisim.order(payment.reference)
    assert order["total"] == "12.30" and order["product"] == "FACE_TO_FACE_PAYMENT"
    assert order["notify_url"].endswith("/api/v1/payments/notify/alipay")


def test_a_phone_is_sent_to_the_gateway_with_a_signed_wap_pay_request(alisim, client, tab):
    payment = start(tab, user_agent=IPHONE)
    assert payment.code_url.endswith(f"/t/{tab.table.token}/pay/alipay/{payment.reference}/")
    answer = client.get(payment.code_url.split("8000", 1)[-1])
    assert answer.status_code == 302
    gateway = answer["Location"]
    assert gateway.startswith(alisim.url + "/gateway.do?")
    assert "method=alipay.trade.wap.pay" in gateway and "sign=" in gateway
    with urllib.request.urlopen(gateway, timeout=10) as page:  # the simulator checks the sign
        assert page.status == 200 and "¥50.00" in page.read().decode()
    order = alisim.order(payment.reference)
    assert order["product"] == "QUICK_WAP_WAY"
    assert order["return_url"] == f"http://127.0.0.1:8000/t/{tab.table.token}/pay/"
    tampered = gateway.replace("total_amount%22%3A%2250.00", "total_amount%22%3A%220.01")
    assert tampered != gateway
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered, timeout=10)
    assert refused.value.code == 400


def test_the_pay_page_offers_alipay_when_it_is_configured(alisim, client, table, tab):
    page = client.get(f"/t/{table.token}/pay/").content.decode()
    assert 'name="gateway" value="alipay"' in page


def test_an_answer_not_signed_by_alipay_is_not_believed(alisim, settings, tab, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = tmp_path / "other.pem"
    pem.write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings.ALIPAY = alipay_from_env(
        {**alisim.env, "ALIPAY_PUBLIC_KEY": str(pem)}, public_url=settings.PUBLIC_URL
    )
    payment = start(tab)
    assert payment.status == "failed" and "not signed by Alipay" in payment.failure


# Notifications --------------------------------------------------------------------------------


def test_a_paid_trade_is_notified_verified_and_settles_the_tab(alisim, client, tab, commits):
    payment = start(tab)
    with commits():
        payment = paid(alisim, payment, client)
    assert payment.status == "succeeded"
    assert payment.gateway_txn == alisim.order(payment.reference)["trade_no"]
    assert Tab.objects.get(pk=tab.pk).status == "settled" and ledger_sum(account="qr") == 50


def test_trade_finished_after_trade_success_is_later_news_of_the_same_trade(alisim, client, tab):
    """The replays themselves are in test_gateway_notifications.py, for both gateways."""
    payment = start(tab)
    scan(alisim, payment)
    alisim.decide(payment.reference)
    assert post(client, alisim.notification(payment.reference)).content == b"success"
    finished = alisim.notification(payment.reference, trade_status="TRADE_FINISHED")
    assert post(client, finished).content == b"success"
    assert Payment.objects.get().status == "succeeded"
    assert LedgerEntry.objects.count() == 1 and ledger_sum() == 50


@pytest.mark.parametrize(
    ("forgery", "status", "code"),
    [
        ({"wrong_key": True}, 401, "bad_signature"),
        ({"total_amount": "49.99"}, 400, "wrong_amount"),
        ({"total_amount": "50"}, 400, "invalid"),
        ({"app_id": "2021000000000001"}, 400, "wrong_merchant"),
        ({"seller_id": "2088000000000001"}, 400, "wrong_merchant"),
        ({"notify_time": "2020-01-01 12:00:00"}, 400, "stale"),
    ],
)
def test_a_bad_notification_is_refused_logged_and_changes_nothing(
    alisim, client, tab, caplog, forgery, status, code
):
    payment = start(tab)
    scan(alisim, payment)
    alisim.decide(payment.reference)
    with caplog.at_level(logging.WARNING, logger="payments"):
        answer = post(client, alisim.notification(payment.reference, **forgery))
    assert answer.status_code == status and answer.content == b"fail"
    assert code in caplog.text
    payment.refresh_from_db()
    assert payment.status == "pending" and not LedgerEntry.objects.exists()


def test_a_tampered_or_unsigned_notification_is_refused(alisim, client, tab, caplog):
    payment = start(tab)
    scan(alisim, payment)
    alisim.decide(payment.reference)
    fields = alisim.notification(payment.reference)
    with caplog.at_level(logging.WARNING, logger="payments"):
        assert post(client, {**fields, "total_amount": "0.01"}).status_code == 401
        assert (
            post(client, {**fields, "trade_status": "TRADE_SUCCESS", "buyer_id": "x"}).status_code
            == 401
        )
        unsigned = {k: v for k, v in fields.items() if k != "sign"}
        assert post(client, unsigned).status_code == 401
        assert post(client, {**fields, "sign_type": "RSA"}).status_code == 401
    assert "bad_signature" in caplog.text and "unsigned" in caplog.text
    assert Payment.objects.get().status == "pending"
    assert post(client, fields).content == b"success"  # the real one still counts


def test_waiting_for_the_buyer_is_acknowledged_and_changes_nothing(alisim, client, tab):
    payment = start(tab)
    scan(alisim, payment)
    answer = post(client, alisim.notification(payment.reference))  # WAIT_BUYER_PAY
    assert answer.content == b"success"
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_a_declined_trade_is_closed_and_the_payment_fails(alisim, client, tab):
    payment = start(tab)
    scan(alisim, payment)
    alisim.decide(payment.reference, "decline")
    assert post(client, alisim.notification(payment.reference)).content == b"success"
    payment.refresh_from_db()
    assert payment.status == "failed" and payment.failure == "TRADE_CLOSED"


# Expiry, time-outs ----------------------------------------------------------------------------


def test_expiry_closes_a_scanned_trade_at_the_gateway_first(alisim, tab):
    payment = start(tab)
    scan(alisim, payment)
    assert services.payments_expire_due(now=timezone.now() + timedelta(minutes=11)) == 1
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert alisim.order(payment.reference)["state"] == "TRADE_CLOSED"


def test_a_code_scanned_and_paid_after_expiry_is_refunded_in_full(alisim, client, tab, commits):
    """Alipay keeps an unscanned code payable until its time_expire, even after a close."""
    payment = start(tab)
    services.payments_expire_due(now=timezone.now() + timedelta(minutes=11))
    payment.refresh_from_db()
    assert payment.status == "expired"
    with commits():
        paid(alisim, payment, client)
    assert payment.status == "succeeded"
    refund = Refund.objects.get(payment=payment)
    assert refund.automatic and refund.status == "succeeded" and refund.amount == 50
    assert alisim.refund(payment.reference, refund_number(refund))["amount"] == "50.00"
    assert ledger_sum(account="qr") == 0


def test_a_lost_notification_is_settled_by_the_query_once(alisim, tab):
    payment = start(tab)
    scan(alisim, payment)
    alisim.decide(payment.reference)
    later = timezone.now() + timedelta(minutes=1)
    assert services.gateways_settle(now=later) == 1
    assert services.gateways_settle(now=later + timedelta(minutes=1)) == 0
    payment.refresh_from_db()
    assert payment.status == "succeeded" and ledger_sum() == 50


def test_a_slow_gateway_leaves_a_cancel_unknown(alisim, client, table, tab):
    payment = start(tab)
    scan(alisim, payment)
    alisim.controls(latency=1.5)
    answer = client.post(f"/t/{table.token}/pay/{payment.pk}/cancel/", {"tab": tab.pk})
    assert answer.status_code == 503
    payment.refresh_from_db()
    assert payment.status == "pending"


# Refunds --------------------------------------------------------------------------------------


def test_two_partial_refunds_each_with_its_own_number(alisim, client, api, tab, commits):
    payment = start(tab)
    with commits():
        paid(alisim, payment, client)
    for amount, key in (("10", "r1"), ("15.50", "r2")):
        with commits():
            answer = api.staff_post(
                f"/payments/{payment.pk}/refunds",
                {"amount": amount, "reason": "菜凉了", "key": key},
            )
        assert answer.status_code == 201
    refunds = list(Refund.objects.order_by("pk"))
    assert [r.status for r in refunds] == ["succeeded", "succeeded"]  # synchronous at Alipay
    amounts = [alisim.refund(payment.reference, refund_number(r))["amount"] for r in refunds]
    assert amounts == ["10.00", "15.50"]
    payment.refresh_from_db()
    assert payment.refunded == 25.5 and ledger_sum(account="qr") == 24.5


def test_a_refused_refund_shows_failed_with_the_reason_and_can_be_tried_again(
    alisim, client, api, tab, commits
):
    payment = start(tab)
    with commits():
        paid(alisim, payment, client)
    alisim.controls(
        refund_refuse={"sub_code": "ACQ.SELLER_BALANCE_NOT_ENOUGH", "sub_msg": "卖家余额不足"}
    )
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "20", "reason": "退菜"})
    refused = Refund.objects.get()
    assert refused.status == "failed"
    assert refused.failure == "ACQ.SELLER_BALANCE_NOT_ENOUGH: 卖家余额不足"
    alisim.controls(refund_refuse=None)
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "20", "reason": "退菜"})
    assert Refund.objects.filter(status="succeeded").count() == 1
    assert ledger_sum(account="qr") == 30


def test_a_refund_that_timed_out_is_settled_by_the_refund_query(alisim, client, api, tab, commits):
    payment = start(tab)
    with commits():
        paid(alisim, payment, client)
    alisim.controls(latency=1.5)
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "5", "reason": "少了一道菜"})
    refund = Refund.objects.get()
    assert refund.status == "pending"
    alisim.controls(latency=0)
    time.sleep(0.6)  # the simulator finishes the slow request after our time-out
    assert services.gateways_settle(now=timezone.now() + timedelta(minutes=1)) == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded" and ledger_sum(account="qr") == 45


# Configuration and races ----------------------------------------------------------------------


def test_a_partial_or_malformed_configuration_is_refused(alisim, tmp_path):
    env = dict(alisim.env)
    with pytest.raises(GatewayConfigError, match="ALIPAY_SELLER_ID"):
        alipay_from_env({**env, "ALIPAY_SELLER_ID": ""}, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="16-digit"):
        alipay_from_env({**env, "ALIPAY_APPID": "wx123"}, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="no file"):
        alipay_from_env({**env, "ALIPAY_PUBLIC_KEY": "/nope.pem"}, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="ALIPAY_GATEWAY_URL"):
        alipay_from_env({**env, "ALIPAY_GATEWAY_URL": "http://x/"}, public_url="http://x")
    assert alipay_from_env({}, public_url="http://x") is None
    real = alipay_from_env({**env, "ALIPAY_GATEWAY_URL": ""}, public_url="http://x")
    assert real["gateway_url"] == "https://openapi.alipay.com/gateway.do"


def test_with_alipay_not_configured_it_is_not_offered(settings, client, api, table, tab):
    settings.ALIPAY = None
    assert (
        client.post(NOTIFY, "a=b", content_type="application/x-www-form-urlencoded").status_code
        == 404
    )
    body = {"gateway": "alipay", "amount": "50", "version": tab.version, "key": "k"}
    answer = api.post(f"/tables/{table.token}/payments", body)
    assert answer.status_code == 400 and answer.json()["error"] == "method_unavailable"
