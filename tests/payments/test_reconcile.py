"""Reconciliation (对账): the gateways' bills of a day against our payments and refunds, each
kind of mismatch, and a payment the gateway took but never told us about, booked after asking
the gateway's query API (the WeChat Pay simulator, over real HTTP)."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from payments.models import GatewayBill, Payment, Refund
from payments.reports.reconcile import (
    Kind,
    day_result,
    reconcile_check,
    reconcile_day,
    refund_number,
)

from . import test_wechatpay
from .report_day import at, make_day

pytestmark = pytest.mark.django_db
DAY = date(2026, 12, 1)


def row(
    out_trade_no, amount, *, kind="payment", refund_no="", fee="0.00", time="2026-12-01 19:55:00"
):
    return {"kind": kind, "out_trade_no": out_trade_no, "transaction_id": "42" + out_trade_no,
            "refund_no": refund_no, "amount": amount, "fee": fee, "time": time}  # fmt: skip


def wechat_paid(tab, reference, amount, when):
    return Payment.objects.create(
        tab=tab, method="qr", provider="wechatpay", status=Payment.Status.SUCCEEDED,
        amount=Decimal(amount), version=1, key=reference, reference=reference, created_at=when,
        completed_at=when,
    )  # fmt: skip


@pytest.fixture
def day(menu, cashier, manager):
    made = make_day(menu, cashier, manager)
    bill2 = made["bills"][2]
    # Here: 30 (the gateway says 31), 40 (not on its bill), 25 with a refund of 5 (both listed).
    wechat_paid(bill2, "dcdiffers", "30", at(1, 19, 56))
    wechat_paid(bill2, "dcnotthere", "40", at(1, 19, 57))
    refunded = wechat_paid(bill2, "dcrefunded", "25", at(1, 19, 58))
    back = Refund.objects.create(payment=refunded, amount=Decimal(5), reason="少菜",
                                 status=Refund.Status.SUCCEEDED, completed_at=at(1, 20, 5))  # fmt: skip
    GatewayBill.objects.create(provider="wechatpay", bill_date=DAY, rows=[
        row("dcbill2wechat", "52.00", fee="0.31"),
        row("dcdiffers", "31.00", fee="0.19"),
        row("dcrefunded", "25.00", fee="0.15"),
        row("dcrefunded", "5.00", kind="refund", refund_no=refund_number("dcrefunded", back.pk)),
        row("dcnobodyknows", "18.00", fee="0.11"),
    ])  # fmt: skip
    return made


def test_each_kind_is_found_with_the_bill_to_act_on(day):
    result = reconcile_day(DAY)
    kinds = {(i.kind, i.out_trade_no, i.is_refund) for i in result.items}
    assert kinds == {
        (Kind.MATCHED, "dcbill2wechat", False),
        (Kind.MATCHED, "dcrefunded", False),
        (Kind.MATCHED, "dcrefunded", True),
        (Kind.AMOUNT_DIFFERS, "dcdiffers", False),
        (Kind.MISSING_HERE, "dcnobodyknows", False),
        (Kind.MISSING_THERE, "dcnotthere", False),
    }
    differs = result.of(Kind.AMOUNT_DIFFERS)[0]
    assert (differs.gateway_amount, differs.our_amount) == (Decimal("31.00"), Decimal("30.00"))
    bill2 = day["bills"][2]
    assert differs.tab == bill2.pk and result.of(Kind.MISSING_THERE)[0].tab == bill2.pk
    assert result.of(Kind.MISSING_HERE)[0].payment is None  # nobody here knows it: an alert
    assert result.counts == {"matched": 3, "missing_here": 1, "missing_there": 1,
                             "amount_differs": 1}  # fmt: skip
    assert result.fees == Decimal("0.76")
    assert result.gateway_net == Decimal("121.00")  # 52 + 31 + 25 − 5 + 18
    assert result.missing_bills == ["alipay"] and not result.balanced


def test_a_payment_on_the_next_days_bill_is_not_missing(day):
    GatewayBill.objects.create(provider="wechatpay", bill_date=date(2026, 12, 2),
                               rows=[row("dcnotthere", "40.00", time="2026-12-02 00:00:02")])  # fmt: skip
    assert not reconcile_day(DAY).of(Kind.MISSING_THERE)


def test_a_refund_here_that_the_gateway_never_listed_is_missing_there(day):
    bill = GatewayBill.objects.get(bill_date=DAY)
    bill.rows = [r for r in bill.rows if r["kind"] != "refund"]
    bill.save()
    missing = reconcile_day(DAY).of(Kind.MISSING_THERE)
    assert {(i.out_trade_no, i.is_refund, i.our_amount) for i in missing} == {
        ("dcnotthere", False, Decimal("40.00")),
        ("dcrefunded", True, Decimal("5.00")),
    }


def test_cash_card_and_other_days_are_not_reconciled_against_a_gateway(day):
    # The day's cash 82 and card 176 are not QR; bill 0's and bill 4's cash belong to no bill.
    theirs = {i.out_trade_no for i in reconcile_day(DAY).items}
    assert not any(p.reference in theirs for p in Payment.objects.exclude(method="qr"))


def test_without_a_bill_nothing_is_matched_and_the_bill_is_missing(db):
    result = reconcile_day(DAY)
    assert result.items == [] and result.missing_bills == ["wechatpay", "alipay"]
    assert not result.balanced


def test_the_gateways_paid_order_we_never_heard_of_is_asked_for_and_recorded(sim, tab):
    payment = test_wechatpay.start(tab, amount="50.00")
    assert sim.decide(payment.reference)[0] == 200  # paid, but the notification is lost
    today = datetime.now(china()).date()
    GatewayBill.objects.create(provider="wechatpay", bill_date=today,
                               rows=[row(payment.reference, "50.00", fee="0.30")])  # fmt: skip
    missing = reconcile_day(today).of(Kind.MISSING_HERE)
    assert [(i.payment, i.our_status) for i in missing] == [(payment.pk, "pending")]
    [(item, outcome)] = reconcile_check(day=today)
    assert outcome == "recorded"
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.gateway_txn
    assert [i.kind for i in reconcile_day(today).items] == [Kind.MATCHED]
    assert reconcile_check(day=today) == []  # once


def test_an_order_the_gateway_does_not_confirm_stays_an_alert(sim, tab, caplog):
    payment = test_wechatpay.start(tab, amount="50.00")  # not paid at the gateway
    today = datetime.now(china()).date()
    GatewayBill.objects.create(provider="wechatpay", bill_date=today,
                               rows=[row(payment.reference, "50.00")])  # fmt: skip
    [(_item, outcome)] = reconcile_check(day=today)
    assert outcome == "not confirmed"
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert "is not recorded here (not confirmed)" in caplog.text


def china():
    from django.utils import timezone

    return timezone.get_fixed_timezone(8 * 60)


def test_the_days_result_for_the_z_report(day):
    result = day_result(DAY)
    assert result["balanced"] is False and result["missing_bills"] == ["alipay"]
    assert result["kinds"]["matched"] == {"count": 3, "amount": "82.00"}  # 52 + 25 + 5
    assert result["kinds"]["amount_differs"] == {"count": 1, "amount": "31.00"}
    assert result["kinds"]["missing_here"] == {"count": 1, "amount": "18.00"}
    assert result["kinds"]["missing_there"] == {"count": 1, "amount": "40.00"}
    assert result["fees"] == "0.76"
