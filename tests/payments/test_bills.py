"""The gateways' daily trade bills: fetched from the simulators over real HTTP (WeChat's with a
signed request, un-gzipped and hash-checked; Alipay's zip of GBK CSV), parsed and kept."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from payments import bills
from payments.models import GatewayBill, Refund
from payments.providers.wechatpay import BillRefused, refund_number

from . import test_alipay, test_wechatpay
from .conftest import seat

pytestmark = pytest.mark.django_db
CHINA = timezone.get_fixed_timezone(8 * 60)


def beijing_today():
    return datetime.now(CHINA).date()


def test_wechat_pays_bill_is_fetched_hash_checked_and_parsed(sim, client, api, table, tab, commits):
    payment = test_wechatpay.start(tab, amount="20")
    with commits():
        test_wechatpay.paid(sim, payment, client)
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "5", "reason": "少菜"})
    refund = Refund.objects.get()
    test_wechatpay.settled_refund(sim, refund)
    bill = bills.bill_fetch(provider_name="wechatpay", day=beijing_today())
    assert len(bill.digest) == 40
    paid = [
        r for r in bill.rows if r["kind"] == "payment" and r["out_trade_no"] == payment.reference
    ]
    assert (
        paid and paid[0]["amount"] == "20.00" and paid[0]["transaction_id"] == payment.gateway_txn
    )
    back = [r for r in bill.rows if r["refund_no"] == refund_number(refund)]
    assert back and back[0]["kind"] == "refund" and back[0]["amount"] == "5.00"
    assert "应结订单总金额" in bill.totals
    again = bills.bill_fetch(provider_name="wechatpay", day=beijing_today())
    assert again.pk == bill.pk and GatewayBill.objects.count() == 1


def test_a_wechat_bill_that_does_not_match_its_hash_is_refused_and_not_kept(sim):
    sim.controls(bill_corrupt=True)
    with pytest.raises(BillRefused, match="hash_value"):
        bills.bill_fetch(provider_name="wechatpay", day=beijing_today())
    assert not GatewayBill.objects.exists()


def test_alipays_bill_is_fetched_and_parsed(alisim, client, api, tab, commits):
    payment = test_alipay.start(tab, amount="30")
    with commits():
        test_alipay.paid(alisim, payment, client)
    with commits():
        api.staff_post(f"/payments/{payment.pk}/refunds", {"amount": "7.50", "reason": "少菜"})
    bill = bills.bill_fetch(provider_name="alipay", day=beijing_today())
    mine = [r for r in bill.rows if r["out_trade_no"] == payment.reference]
    assert {(r["kind"], r["amount"]) for r in mine} == {("payment", "30.00"), ("refund", "7.50")}
    refund = Refund.objects.get()
    assert [r["refund_no"] for r in mine if r["kind"] == "refund"] == [refund_number(refund)]


def test_the_worker_fetches_yesterdays_bills_once_after_ten(sim, alisim, table, menu):
    seat(table, menu)
    tomorrow = datetime.combine(beijing_today() + timedelta(days=1), datetime.min.time())
    early = tomorrow.replace(hour=9, tzinfo=CHINA)
    assert bills.bills_fetch_due(now=early) == 0
    late = tomorrow.replace(hour=10, minute=30, tzinfo=CHINA)
    assert bills.bills_fetch_due(now=late) == 2
    assert bills.bills_fetch_due(now=late) == 0
    assert set(GatewayBill.objects.values_list("provider", "bill_date")) == {
        ("wechatpay", beijing_today()),
        ("alipay", beijing_today()),
    }
