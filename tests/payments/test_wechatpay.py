"""WeChat Pay API v3 against the simulator (simulators/wechatpay.py) over real HTTP, with the
`wechatpayv3` SDK signing, verifying and decrypting: Native and H5, notifications (forged,
tampered, wrong amount or merchant, stale, replayed), close on expiry, refunds, time-outs."""

import json
import logging
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Tab
from payments import services
from payments.gateway_settings import GatewayConfigError, wechatpay_from_env
from payments.models import LedgerEntry, Payment, Refund
from payments.providers.base import StartContext
from payments.providers.wechatpay import refund_number

from .conftest import ledger_sum

pytestmark = pytest.mark.django_db

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Safari/604.1"
)
NOTIFY = "/api/v1/payments/notify/wechatpay"


def start(tab, amount="50.00", key="phone-1", user_agent=DESKTOP):
    payment, _created = services.payment_start(
        tab_id=tab.pk,
        method="qr",
        amount=Decimal(amount),
        version=tab.version,
        key=key,
        gateway="wechatpay",
        context=StartContext(
            user_agent=user_agent,
            client_ip="127.0.0.1",
            return_url=f"http://127.0.0.1:8000/t/{tab.table.token}/pay/",
        ),
    )
    return Payment.objects.get(pk=payment.pk)


def post(client, headers, body):
    return client.post(NOTIFY, body, content_type="application/json", headers=headers)


def paid(sim, payment, client):
    """The payer approves at the gateway, and its notification reaches us."""
    assert sim.decide(payment.reference)[0] == 200
    answer = post(client, *sim.notification(payment.reference))
    assert answer.status_code == 204, answer.content
    payment.refresh_from_db()
    return payment


def settled_refund(sim, refund):
    """Wait until the gateway finished the refund; then its notification, signed."""
    number = refund_number(refund)
    deadline = time.monotonic() + 5
    while sim.refund(number).get("status") != "SUCCESS":
        assert time.monotonic() < deadline, sim.refund(number)
        time.sleep(0.05)
    return sim.notification(number, kind="refund")


# Starting -------------------------------------------------------------------------------------


def test_a_desktop_gets_a_native_code_url_and_the_gateway_has_the_order_in_fen(sim, tab):
    payment = start(tab, amount="12.34")
    assert payment.status == "pending" and payment.provider == "wechatpay"
    assert payment.code_url.startswith(sim.url + "/pay/wx")
    order = sim.order(payment.reference)
    assert order["trade_type"] == "NATIVE" and order["total"] == 1234
    assert order["currency"] == "CNY" and order["state"] == "NOTPAY"
    assert order["notify_url"].endswith("/api/v1/payments/notify/wechatpay")


def test_a_phone_gets_an_h5_page_that_leads_back_to_the_pay_page(sim, tab):
    payment = start(tab, user_agent=IPHONE)
    assert sim.order(payment.reference)["trade_type"] == "H5"
    assert "?h5=1&redirect_url=http%3A%2F%2F127.0.0.1%3A8000%2Ft%2F" in payment.code_url


def test_the_api_starts_a_wechat_payment_by_name_with_the_phones_user_agent(sim, api, table, tab):
    body = {"gateway": "wechatpay", "amount": "50", "version": tab.version, "key": "k1"}
    answer = api.client.post(
        f"/api/v1/tables/{table.token}/payments",
        json.dumps(body),
        content_type="application/json",
        headers={"User-Agent": IPHONE},
    )
    assert answer.status_code == 201, answer.content
    out = answer.json()["payment"]
    assert out["gateway"] == "wechatpay" and "h5=1&redirect_url=" in out["code_url"]


def test_the_pay_page_offers_wechat_pay_when_it_is_configured(sim, client, table, tab):
    page = client.get(f"/t/{table.token}/pay/").content.decode()
    assert 'name="gateway" value="wechatpay"' in page


def test_an_answer_not_signed_by_the_platform_is_not_believed(sim, settings, tab, tmp_path):
    """The SDK verifies every answer: with another platform public key the start fails."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = tmp_path / "other.pem"
    pem.write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    env = {**sim.env, "WECHATPAY_PUBLIC_KEY": str(pem)}
    settings.WECHATPAY = wechatpay_from_env(env, public_url=settings.PUBLIC_URL)
    payment = start(tab)
    assert payment.status == "failed" and "verify the signature" in payment.failure


def test_a_query_answer_that_does_not_verify_leaves_the_payment_unknown(
    sim, settings, tab, tmp_path
):
    """The worker's query gets an answer signed with a key that is not the platform's: not
    believed, not a crash of the settle job, the payment still pending for the next round."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    payment = start(tab)
    sim.decide(payment.reference)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = tmp_path / "other.pem"
    pem.write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings.WECHATPAY = wechatpay_from_env(
        {**sim.env, "WECHATPAY_PUBLIC_KEY": str(pem)}, public_url=settings.PUBLIC_URL
    )
    assert services.gateways_settle(now=timezone.now() + timedelta(minutes=1)) == 0
    payment.refresh_from_db()
    assert payment.status == "pending" and not LedgerEntry.objects.exists()


def test_a_request_signed_with_another_merchant_key_is_refused_by_the_gateway(
    sim, settings, tab, tmp_path
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "other_key.pem"
    pem.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {**sim.env, "WECHATPAY_PRIVATE_KEY": str(pem)}
    settings.WECHATPAY = wechatpay_from_env(env, public_url=settings.PUBLIC_URL)
    payment = start(tab)
    assert payment.status == "failed" and "SIGN_ERROR" in payment.failure
    assert sim.order(payment.reference) == {}


# Notifications --------------------------------------------------------------------------------


def test_an_approved_payment_is_notified_verified_and_settles_the_tab(sim, client, tab, commits):
    payment = start(tab)
    with commits():
        payment = paid(sim, payment, client)
    assert payment.status == "succeeded"
    assert payment.gateway_txn == sim.order(payment.reference)["transaction_id"]
    assert Tab.objects.get(pk=tab.pk).status == "settled"
    assert ledger_sum(account="qr") == 50


@pytest.mark.parametrize(
    ("forgery", "status", "code"),
    [
        ({"wrong_key": True}, 401, "bad_signature"),
        ({"amount_total": 4999}, 400, "wrong_amount"),
        ({"currency": "USD"}, 400, "wrong_amount"),
        ({"mchid": "1900000001"}, 400, "wrong_merchant"),
        ({"appid": "wx0000000000000001"}, 400, "wrong_merchant"),
        ({"timestamp": -400}, 400, "stale"),  # seconds from now, when the test runs
        ({"timestamp": +900}, 400, "stale"),
    ],
)
def test_a_bad_notification_is_refused_logged_and_changes_nothing(
    sim, client, tab, caplog, forgery, status, code
):
    payment = start(tab)
    sim.decide(payment.reference)
    version = Tab.objects.get(pk=tab.pk).version
    if "timestamp" in forgery:
        # Taken from the clock now, not when the cases were collected: a suite that reaches this
        # test ten minutes in would otherwise send a "future" time that is no longer stale.
        forgery = {"timestamp": int(time.time()) + forgery["timestamp"]}
    with caplog.at_level(logging.WARNING, logger="payments"):
        answer = post(client, *sim.notification(payment.reference, **forgery))
    assert answer.status_code == status
    assert answer.json()["code"] == "FAIL" and answer.json()["message"]
    assert code in caplog.text
    payment.refresh_from_db()
    assert payment.status == "pending" and not LedgerEntry.objects.exists()
    assert Tab.objects.get(pk=tab.pk).version == version


def test_a_tampered_body_or_a_foreign_serial_or_no_signature_is_refused(sim, client, tab, caplog):
    payment = start(tab)
    sim.decide(payment.reference)
    headers, body = sim.notification(payment.reference)
    with caplog.at_level(logging.WARNING, logger="payments"):
        tampered = body.replace(b'"event_type":"TRANSACTION.SUCCESS"', b'"event_type":"X"')
        assert tampered != body
        assert post(client, headers, tampered).status_code == 401
        foreign = {**headers, "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"}
        assert post(client, foreign, body).status_code == 401
        assert post(client, {}, body).status_code == 401
    assert "bad_signature" in caplog.text and "unknown_serial" in caplog.text
    assert "unsigned" in caplog.text
    assert Payment.objects.get().status == "pending"
    assert post(client, headers, body).status_code == 204  # the real one still counts


def test_with_wechat_pay_not_configured_it_is_not_offered(settings, client, api, table, tab):
    settings.WECHATPAY = None
    assert client.post(NOTIFY, b"{}", content_type="application/json").status_code == 404
    body = {"gateway": "wechatpay", "amount": "50", "version": tab.version, "key": "k"}
    answer = api.post(f"/tables/{table.token}/payments", body)
    assert answer.status_code == 400 and answer.json()["error"] == "method_unavailable"
    assert 'value="wechatpay"' not in client.get(f"/t/{table.token}/pay/").content.decode()


# Expiry, declines, time-outs ------------------------------------------------------------------


def test_expiry_closes_the_order_at_the_gateway_first(sim, tab):
    payment = start(tab)
    later = timezone.now() + timedelta(minutes=11)
    assert services.payments_expire_due(now=later) == 1
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert sim.order(payment.reference)["state"] == "CLOSED"
    assert sim.decide(payment.reference)[0] == 409  # nobody can pay it any more


def test_an_order_paid_before_the_close_is_left_for_its_notification(sim, client, tab):
    payment = start(tab)
    sim.decide(payment.reference)
    assert services.payments_expire_due(now=timezone.now() + timedelta(minutes=11)) == 0
    payment.refresh_from_db()
    assert payment.status == "pending"  # the gateway answered ORDERPAID
    assert post(client, *sim.notification(payment.reference)).status_code == 204
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_a_success_after_expiry_is_recorded_and_refunded_in_full(sim, client, tab, commits):
    sim.controls(close_ignored=True)  # the payer pays while we close it
    payment = start(tab)
    services.payments_expire_due(now=timezone.now() + timedelta(minutes=11))
    payment.refresh_from_db()
    assert payment.status == "expired"
    sim.decide(payment.reference)
    with commits():
        answer = post(client, *sim.notification(payment.reference))
    assert answer.status_code == 204
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    refund = Refund.objects.get(payment=payment)
    assert refund.automatic and refund.amount == 50 and refund.status == "pending"
    assert sim.refund(refund_number(refund))["amount"] == 5000
    assert post(client, *settled_refund(sim, refund)).status_code == 204
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.gateway_refund.startswith("5030")
    assert ledger_sum(account="qr") == 0


def test_a_declined_payment_is_found_failed_by_the_query(sim, tab):
    payment = start(tab)
    sim.decide(payment.reference, "decline")
    assert services.gateways_settle(now=timezone.now() + timedelta(minutes=1)) == 1
    payment.refresh_from_db()
    assert payment.status == "failed" and payment.failure == "用户取消支付"


def test_a_lost_notification_is_settled_by_the_query_once(sim, client, tab):
    payment = start(tab)
    sim.decide(payment.reference)
    later = timezone.now() + timedelta(minutes=1)
    assert services.gateways_settle(now=later) == 1
    assert services.gateways_settle(now=later + timedelta(minutes=1)) == 0
    payment.refresh_from_db()
    assert payment.status == "succeeded" and ledger_sum() == 50
    assert post(client, *sim.notification(payment.reference)).status_code == 204  # a replay
    assert LedgerEntry.objects.count() == 1


def test_a_slow_gateway_leaves_a_cancel_unknown_not_failed(sim, api, table, tab):
    payment = start(tab)
    sim.controls(latency=1.5)  # our time-out is 1 s
    answer = api.client.post(f"/t/{table.token}/pay/{payment.pk}/cancel/", {"tab": tab.pk})
    assert answer.status_code == 503
    payment.refresh_from_db()
    assert payment.status == "pending"
    sim.controls(latency=0)
    services.payment_cancel(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    assert sim.order(payment.reference)["state"] == "CLOSED"


def test_an_unreachable_gateway_fails_the_start_with_nothing_to_pay(sim, tab):
    sim.controls(unreachable=True)
    payment = start(tab)
    assert payment.status == "failed" and payment.code_url == ""


# Refunds --------------------------------------------------------------------------------------


def test_two_partial_refunds_each_with_its_own_number(sim, client, api, tab, commits):
    payment = start(tab)
    with commits():
        paid(sim, payment, client)
    refunds = []
    for amount, key in (("10", "r1"), ("15.50", "r2")):
        with commits():
            answer = api.staff_post(
                f"/payments/{payment.pk}/refunds",
                {"amount": amount, "reason": "菜凉了", "key": key},
            )
        assert answer.status_code == 201, answer.content
        refunds.append(Refund.objects.get(pk=answer.json()["refund"]["id"]))
    assert {r.status for r in refunds} == {"pending"}  # PROCESSING at the gateway
    numbers = {refund_number(r) for r in refunds}
    assert len(numbers) == 2
    for refund in refunds:
        assert post(client, *settled_refund(sim, refund)).status_code == 204
        assert post(client, *settled_refund(sim, refund)).status_code == 204  # replayed
    payment.refresh_from_db()
    assert payment.refunded == 25.5
    assert [sim.refund(n)["amount"] for n in sorted(numbers)] == sorted([1000, 1550])
    assert ledger_sum(account="qr") == 50 - 25.5
    assert LedgerEntry.objects.filter(kind="refund").count() == 2


def test_a_refused_refund_shows_failed_with_the_reason_and_can_be_tried_again(
    sim, client, api, tab, commits
):
    payment = start(tab)
    with commits():
        paid(sim, payment, client)
    sim.controls(
        refund_refuse={"code": "NOT_ENOUGH", "message": "基本账户余额不足，请充值后重新发起"}
    )
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "20", "reason": "退菜"})
    refused = Refund.objects.get()
    assert refused.status == "failed"
    assert refused.failure == "NOT_ENOUGH: 基本账户余额不足，请充值后重新发起"
    sim.controls(refund_refuse=None)
    with commits():
        answer = api.staff_post(
            f"/payments/{payment.pk}/refunds", {"amount": "20", "reason": "退菜"}
        )
    again = Refund.objects.get(pk=answer.json()["refund"]["id"])
    assert refund_number(again) != refund_number(refused)
    assert post(client, *settled_refund(sim, again)).status_code == 204
    again.refresh_from_db()
    assert again.status == "succeeded" and ledger_sum(account="qr") == 30


def test_a_refund_that_timed_out_is_settled_by_the_refund_query(sim, client, api, tab, commits):
    payment = start(tab)
    with commits():
        paid(sim, payment, client)
    sim.controls(latency=1.5)
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "5", "reason": "少了一道菜"})
    refund = Refund.objects.get()
    assert refund.status == "pending"  # unknown, not failed
    sim.controls(latency=0)
    deadline = time.monotonic() + 5
    while sim.refund(refund_number(refund)).get("status") != "SUCCESS":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert services.gateways_settle(now=timezone.now() + timedelta(minutes=1)) == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded" and ledger_sum(account="qr") == 45


def test_a_refund_the_gateway_never_got_is_sent_again_under_the_same_number(
    sim, client, api, tab, commits
):
    payment = start(tab)
    with commits():
        paid(sim, payment, client)
    sim.controls(unreachable=True)
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "5", "reason": "少了一道菜"})
    refund = Refund.objects.get()
    assert refund.status == "pending" and sim.refund(refund_number(refund)) == {}
    sim.controls(unreachable=False)
    services.gateways_settle(now=timezone.now() + timedelta(minutes=1))
    assert sim.refund(refund_number(refund))["amount"] == 500
    assert post(client, *settled_refund(sim, refund)).status_code == 204
    refund.refresh_from_db()
    assert refund.status == "succeeded"


# Configuration --------------------------------------------------------------------------------


def test_a_partial_or_malformed_configuration_is_refused_with_a_clear_message(sim, tmp_path):
    env = dict(sim.env)
    with pytest.raises(GatewayConfigError, match="WECHATPAY_APIV3_KEY"):
        wechatpay_from_env({**env, "WECHATPAY_APIV3_KEY": ""}, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="32-character"):
        wechatpay_from_env({**env, "WECHATPAY_APIV3_KEY": "short"}, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="no file"):
        wechatpay_from_env({**env, "WECHATPAY_PRIVATE_KEY": "/nope.pem"}, public_url="http://x")
    not_a_key = tmp_path / "junk.pem"
    not_a_key.write_text("hello")
    with pytest.raises(GatewayConfigError, match="not a PEM public key"):
        wechatpay_from_env({**env, "WECHATPAY_PUBLIC_KEY": str(not_a_key)}, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="WECHATPAY_MCHID"):
        wechatpay_from_env({**env, "WECHATPAY_MCHID": "abc"}, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="WECHATPAY_BASE_URL"):
        wechatpay_from_env({**env, "WECHATPAY_BASE_URL": "ftp://x"}, public_url="http://x")
    assert wechatpay_from_env({}, public_url="http://x") is None
    config = wechatpay_from_env({**env, "WECHATPAY_BASE_URL": ""}, public_url="http://x")
    assert config["base_url"] == "https://api.mch.weixin.qq.com"


def test_settings_refuse_to_start_with_a_partial_configuration(sim):
    import subprocess
    import sys

    from tests.live import ROOT

    env = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "WECHATPAY_MCHID": sim.env["WECHATPAY_MCHID"]}
    run = subprocess.run(
        [sys.executable, "-c", "import django, os; "
         "os.environ['DJANGO_SETTINGS_MODULE']='restaurant.settings'; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode != 0
    assert "ImproperlyConfigured" in run.stderr and "WECHATPAY_APPID" in run.stderr


# Races ----------------------------------------------------------------------------------------


def test_the_cashier_sees_the_gateway_and_a_refused_refunds_reason(
    sim, client, api, cashier, tab, commits
):
    payment = start(tab)
    with commits():
        paid(sim, payment, client)
    sim.controls(refund_refuse={"code": "NOT_ENOUGH", "message": "基本账户余额不足"})
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "5", "reason": "退菜"})
    client.force_login(cashier)
    bill = client.get(f"/cashier/tabs/{tab.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "微信支付" in bill and "NOT_ENOUGH: 基本账户余额不足" in bill
    assert f'action="/cashier/payments/{payment.pk}/refund/"' in bill  # it can be tried again
