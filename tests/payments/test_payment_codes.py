"""付款码 at the till: the cashier scans the code on the payer's phone; its prefix picks WeChat
Pay or Alipay (both simulators over real HTTP, through their SDKs). Instant success, the payer
confirming (USERPAYING / 10003) then paying or timing out (reversed), declined, unreachable."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from payments import services
from payments.models import LedgerEntry, Payment

from .conftest import ledger_sum

pytestmark = pytest.mark.django_db

WECHAT_CODE = "134567890123456789"  # 18 digits, 10–15
ALIPAY_CODE = "287654321098765432"  # 16–24 digits, 25–30


@pytest.fixture
def gateways(sim, alisim):
    return {"wechatpay": sim, "alipay": alisim}


@pytest.fixture
def cashier_client(client, cashier):
    client.force_login(cashier)
    return client


def scan(api, tab, code, key="till-1", amount="50"):
    body = {"method": "qr", "auth_code": code, "amount": amount, "version": tab.version,
            "key": key}  # fmt: skip
    return api.staff_post(f"/tabs/{tab.pk}/payments", body)


@pytest.mark.parametrize(("code", "gateway"), [(WECHAT_CODE, "wechatpay"), (ALIPAY_CODE, "alipay")])
def test_a_scanned_code_is_paid_at_once_by_its_own_gateway(gateways, api, tab, code, gateway):
    answer = scan(api, tab, code)
    assert answer.status_code == 201, answer.content
    assert answer.json()["payment"]["status"] == "succeeded"
    assert answer.json()["payment"]["gateway"] == gateway
    assert answer.json()["settlement"]["balance_due"] == "0.00"
    payment = Payment.objects.get()
    assert payment.by_code and payment.gateway_txn
    order = gateways[gateway].order(payment.reference)
    assert order["state"] == ("SUCCESS" if gateway == "wechatpay" else "TRADE_SUCCESS")
    assert ledger_sum(account="qr") == 50
    again = scan(api, tab, code)  # the same key: the same payment, charged once
    assert again.status_code == 200 and Payment.objects.count() == 1


@pytest.mark.parametrize(("code", "gateway"), [(WECHAT_CODE, "wechatpay"), (ALIPAY_CODE, "alipay")])
def test_the_payer_confirms_on_the_phone_then_it_is_paid(gateways, api, tab, code, gateway):
    sim = gateways[gateway]
    sim.controls(code_answer="userpaying")
    answer = scan(api, tab, code)
    assert answer.json()["payment"]["status"] == "pending"
    payment = Payment.objects.get()
    assert services.gateways_settle() == 0  # asked at once: still confirming
    sim.decide(payment.reference)  # the payer enters the password
    assert services.gateways_settle(now=timezone.now() + timedelta(seconds=3)) == 1
    payment.refresh_from_db()
    assert payment.status == "succeeded" and ledger_sum(account="qr") == 50


@pytest.mark.parametrize("shape", ["202", "trade_state"])
def test_wechats_userpaying_is_read_in_either_shape_never_as_a_refusal(gateways, api, tab, shape):
    """HTTP 202 {"code": "USERPAYING"}, or 200 with trade_state USERPAYING: the documents found
    do not settle which v3 sends (payments/README.md), so both mean "the payer is confirming"."""
    sim = gateways["wechatpay"]
    sim.controls(code_answer="userpaying", userpaying_shape=shape)
    answer = scan(api, tab, WECHAT_CODE)
    assert answer.json()["payment"]["status"] == "pending", answer.content
    payment = Payment.objects.get()
    assert sim.order(payment.reference)["state"] == "USERPAYING"
    sim.decide(payment.reference)
    assert services.gateways_settle(now=timezone.now() + timedelta(seconds=3)) == 1
    payment.refresh_from_db()
    assert payment.status == "succeeded" and ledger_sum(account="qr") == 50


@pytest.mark.parametrize(("code", "gateway"), [(WECHAT_CODE, "wechatpay"), (ALIPAY_CODE, "alipay")])
def test_the_payer_never_confirms_and_it_is_reversed(gateways, api, tab, code, gateway):
    sim = gateways[gateway]
    sim.controls(code_answer="userpaying")
    scan(api, tab, code)
    payment = Payment.objects.get()
    now = timezone.now()
    for seconds in (3, 9, 20):  # polled with back-off while the payer may still confirm
        assert services.gateways_settle(now=now + timedelta(seconds=seconds)) == 0
    assert services.gateways_settle(now=now + timedelta(seconds=50)) == 1
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    reason = "The payer did not confirm in time: reversed at the gateway"
    with translation.override("zh-hans"):
        assert payment.events.last().reason in (reason, gettext(reason))
    state = sim.order(payment.reference)["state"]
    assert state == ("REVOKED" if gateway == "wechatpay" else "TRADE_CLOSED")
    assert sim.decide(payment.reference)[0] == 409  # nobody can pay it any more
    assert not LedgerEntry.objects.exists()


def test_a_declined_code_fails_with_the_gateways_reason(gateways, api, tab):
    gateways["wechatpay"].controls(
        code_answer={"status": 403, "code": "NOTENOUGH", "message": "用户余额不足"}
    )
    answer = scan(api, tab, WECHAT_CODE)
    assert answer.json()["payment"]["status"] == "failed"
    assert answer.json()["payment"]["failure"] == "NOTENOUGH: 用户余额不足"
    gateways["alipay"].controls(
        code_answer={"sub_code": "ACQ.BUYER_BALANCE_NOT_ENOUGH", "sub_msg": "买家余额不足"}
    )
    answer = scan(api, tab, ALIPAY_CODE, key="till-2")
    assert answer.json()["payment"]["failure"] == "ACQ.BUYER_BALANCE_NOT_ENOUGH: 买家余额不足"
    assert not LedgerEntry.objects.exists()


def test_an_unreachable_gateway_takes_nothing_says_so_and_the_till_scans_again(
    gateways, cashier_client, tab
):
    gateways["wechatpay"].controls(unreachable=True)
    form = {"method": "qr", "auth_code": WECHAT_CODE, "version": tab.version, "key": "k1"}
    english = {"HX-Request": "true", "Accept-Language": "en"}
    answer = cashier_client.post(f"/cashier/tabs/{tab.pk}/pay/", form, headers=english)
    assert "did not answer" in answer.content.decode(), answer.content.decode()[-600:]
    payment = Payment.objects.get()
    assert payment.status == "pending"  # the reverse did not get through either: still unknown
    gateways["wechatpay"].controls(unreachable=False)
    later = timezone.now() + timedelta(seconds=50)
    services.gateways_settle(now=later)
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    retry = {**form, "key": "k2"}
    cashier_client.post(f"/cashier/tabs/{tab.pk}/pay/", retry, headers={"HX-Request": "true"})
    retried = Payment.objects.get(key="k2")
    assert retried.status == "succeeded", retried.failure
    assert ledger_sum(account="qr") == 50


def test_a_payment_still_being_reversed_does_not_block_a_new_scan_of_the_whole_bill(
    gateways, api, tab
):
    gateways["wechatpay"].controls(unreachable=True)
    scan(api, tab, WECHAT_CODE, key="k1")
    stuck = Payment.objects.get()
    assert stuck.status == "pending" and stuck.failure == services.REVERSING
    gateways["wechatpay"].controls(unreachable=False)
    answer = scan(api, tab, WECHAT_CODE, key="k2")  # the payer shows a fresh code at once
    assert answer.status_code == 201, answer.content
    assert answer.json()["payment"]["status"] == "succeeded"
    services.gateways_settle(now=timezone.now() + timedelta(seconds=50))
    stuck.refresh_from_db()
    assert stuck.status == "cancelled"  # reversed in the end, never booked
    assert gateways["wechatpay"].order(stuck.reference) == {}  # it never reached the gateway
    assert ledger_sum(account="qr") == 50 and LedgerEntry.objects.count() == 1


def test_a_slow_gateway_is_reversed_at_once_and_the_till_is_told(gateways, api, tab):
    sim = gateways["alipay"]
    sim.controls(latency=1.5)  # our time-out is 1 s; the reverse comes after it
    answer = scan(api, tab, ALIPAY_CODE)
    sim.controls(latency=0)
    payment = Payment.objects.get()
    if payment.status == "pending":  # the reverse timed out too: the settle job finishes it
        services.gateways_settle(now=timezone.now() + timedelta(seconds=50))
        payment.refresh_from_db()
    assert answer.status_code == 201
    assert payment.status == "cancelled"
    assert sim.order(payment.reference)["state"] == "TRADE_CLOSED"  # money (if any) went back
    assert not LedgerEntry.objects.exists()


def test_codes_that_are_no_payment_codes_are_refused(gateways, api, tab):
    for code in ("12345", "990000000000000000", "1345678901234567890", "abc"):
        answer = scan(api, tab, code, key=f"k-{code}")
        assert answer.status_code == 400 and answer.json()["error"] == "bad_auth_code", code
    assert not Payment.objects.exists()


def test_a_code_of_a_gateway_not_configured_is_refused(sim, settings, api, tab):
    settings.ALIPAY = None
    answer = scan(api, tab, ALIPAY_CODE)
    assert answer.status_code == 400 and answer.json()["error"] == "method_unavailable"
