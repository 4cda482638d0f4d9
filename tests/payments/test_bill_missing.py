"""A gateway's bill that never arrives (payments/reports/reconcile.py, `bills_missing_due`): a
gateway that took or gave back money here on a day and whose bill of it is still not in at 14:00
the next day (Beijing time) is one "bill missing" alert for that gateway and day, raised once
however many workers run; a shop without gateway trades that day is not told; nothing resolves
it by itself, and the bill coming later is reconciled as usual."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from payments.members import services as members
from payments.members.models import TopUp
from payments.models import GatewayBill, Payment, Refund
from payments.reports.reconcile import BILL_LATE_HOUR, bills_missing_due, reconcile_due
from restaurant.lib.alerts import Alert
from restaurant.lib.once import JobRun

from .report_day import at
from .test_reconcile import row, wechat_paid

pytestmark = pytest.mark.django_db
CHINA = timezone.get_fixed_timezone(8 * 60)
DAY = date(2026, 12, 1)
LATE = datetime(2026, 12, 2, BILL_LATE_HOUR, tzinfo=CHINA)  # 14:00 the next day


def paid(tab, method, provider, amount, when, status=Payment.Status.SUCCEEDED, reference=None):
    return Payment.objects.create(
        tab=tab, method=method, provider=provider, status=status, amount=Decimal(amount),
        version=1, key=f"k-{method}-{provider}-{amount}-{status}", created_at=when,
        completed_at=when if status == Payment.Status.SUCCEEDED else None,
        **({"reference": reference} if reference else {}),
    )  # fmt: skip


def test_a_gateways_trades_without_its_bill_are_one_alert_from_the_hour_on(tab):
    wechat_paid(tab, "dcwx1", "52", at(1, 19, 55))
    wechat_paid(tab, "dcwx2", "30", at(1, 23, 59))  # still the gateway's day (Beijing)
    wechat_paid(tab, "dcwx3", "18", at(2, 0, 1))  # the next day: not counted
    assert bills_missing_due(now=LATE - timedelta(minutes=1)) == 0  # 13:59
    assert not Alert.objects.exists() and not JobRun.objects.exists()
    assert bills_missing_due(now=LATE) == 1
    [alert] = Alert.objects.all()
    assert alert.kind == Alert.Kind.BILL_MISSING and not alert.is_handled
    assert alert.key == "bill_missing:wechatpay:2026-12-01"
    assert alert.detail == {"gateway": "WeChat Pay", "day": "2026-12-01", "by": "14:00",
                            "count": 2}  # fmt: skip
    assert alert.link == reverse("payments:reconcile") + "?day=2026-12-01"
    with translation.override("en"):
        assert alert.get_kind_display() == "Gateway's bill missing"
        assert alert.text.startswith(
            "WeChat Pay's bill of 2026-12-01 was still not in at 14:00 the next day; payments "
            "and refunds through WeChat Pay that day: 2."
        )
    with translation.override("zh-hans"):
        assert alert.get_kind_display() == "渠道账单未到"
        assert alert.text.startswith("微信支付 2026-12-01 的账单到次日 14:00 仍未取得")
    # Later rounds (and later days' rounds about this day) raise nothing again.
    assert bills_missing_due(now=LATE + timedelta(hours=3)) == 0
    assert Alert.objects.count() == 1


def test_a_refund_or_a_members_top_up_through_a_gateway_counts_as_a_trade(tab, cashier):
    payment = wechat_paid(tab, "dcbefore", "60", at(30, 20, month=11))  # paid the day before
    Refund.objects.create(payment=payment, amount=Decimal(10), reason="少菜",
                          status=Refund.Status.SUCCEEDED, completed_at=at(1, 12))  # fmt: skip
    member = members.member_create(mobile="13800138000", user=cashier)
    TopUp.objects.create(member=member, method=TopUp.Method.QR, provider="alipay",
                         amount=Decimal(200), key="t1", reference="dctopup1",
                         completed_at=at(1, 15))  # fmt: skip
    assert bills_missing_due(now=LATE) == 2
    counts = {a.key: a.detail["count"] for a in Alert.objects.all()}
    assert counts == {"bill_missing:wechatpay:2026-12-01": 1, "bill_missing:alipay:2026-12-01": 1}


def test_a_cash_and_card_day_raises_nothing(tab):
    paid(tab, "cash", "cash", "38", at(1, 12))
    paid(tab, "card", "card", "176", at(1, 13))
    # A QR code shown and never paid, and the sandbox gateway: no trade on any bill.
    paid(tab, "qr", "wechatpay", "52", at(1, 19), status=Payment.Status.EXPIRED,
         reference="dcexpired")  # fmt: skip
    paid(tab, "qr", "sandbox", "20", at(1, 20), reference="dcsandbox")
    assert bills_missing_due(now=LATE) == 0
    assert not Alert.objects.exists()
    [run] = JobRun.objects.filter(job="bills_missing")  # checked once for the day: done
    assert run.period == "2026-12-01" and run.done_at is not None


def test_a_bill_in_by_the_hour_raises_nothing_and_the_other_gateways_missing_one_does(tab):
    wechat_paid(tab, "dcwx1", "52", at(1, 19, 55))
    paid(tab, "qr", "alipay", "30", at(1, 20), reference="dcali1")
    GatewayBill.objects.create(provider="wechatpay", bill_date=DAY,
                               rows=[row("dcwx1", "52.00")])  # fmt: skip
    assert bills_missing_due(now=LATE) == 1
    assert list(Alert.objects.values_list("key", flat=True)) == ["bill_missing:alipay:2026-12-01"]


def test_the_bill_coming_later_is_reconciled_and_the_alert_stays_for_the_manager(tab):
    wechat_paid(tab, "dcwx1", "52", at(1, 19, 55))
    assert reconcile_due(now=LATE) == 0  # no bill of the day at all: nothing to reconcile
    assert bills_missing_due(now=LATE) == 1
    GatewayBill.objects.create(provider="wechatpay", bill_date=DAY, digest="late",
                               rows=[row("dcwx1", "52.00"), row("dcstranger", "9.00")])  # fmt: skip
    assert reconcile_due(now=LATE + timedelta(hours=2)) == 1  # reconciled as usual
    missing = Alert.objects.get(kind=Alert.Kind.BILL_MISSING)
    assert not missing.is_handled  # nothing resolves it by itself
    assert Alert.objects.filter(kind=Alert.Kind.MISSING_HERE, detail__number="dcstranger").exists()
    assert bills_missing_due(now=LATE + timedelta(hours=3)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_hour_raise_the_alert_once(tab, needs_postgres):
    wechat_paid(tab, "dcwx1", "52", at(1, 19, 55))
    barrier, done = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait()
            done.append(bills_missing_due(now=LATE))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == [0, 1]  # one copy checked the day, the other found it claimed
    assert list(Alert.objects.values_list("key", flat=True)) == [
        "bill_missing:wechatpay:2026-12-01"
    ]
    [run] = JobRun.objects.filter(job="bills_missing")
    assert run.done_at is not None and run.attempts == 1


def test_the_today_page_shows_the_bills_only_as_recorded_alerts(tab, client, manager):
    """Yesterday's bills not matching are no computed line beside the alerts any more: the
    manager sees the recorded alerts, one per finding, with their kind as a label."""
    now = timezone.now().astimezone(CHINA)
    yesterday = now.date() - timedelta(days=1)
    noon = datetime.combine(yesterday, datetime.min.time(), CHINA) + timedelta(hours=12)
    wechat_paid(tab, "dcwx1", "52", noon)
    paid(tab, "qr", "alipay", "30", noon, reference="dcali1")
    GatewayBill.objects.create(provider="wechatpay", bill_date=yesterday,
                               rows=[row("dcwx1", "53.00", time=f"{yesterday} 12:00:00")])  # fmt: skip
    client.force_login(manager)
    before = client.get(reverse("payments:reports-today")).content.decode()
    # Unbalanced (an amount differs, Alipay's bill is missing), but nothing is raised yet.
    assert "没有待处理的提醒。" in before and 'class="alerts"' not in before
    late = datetime.combine(now.date(), datetime.min.time(), CHINA) + timedelta(hours=14)
    assert bills_missing_due(now=late) == 1
    assert reconcile_due(now=late) == 1
    page = client.get(reverse("payments:reports-today")).content.decode()
    assert page.count('class="alert-item"') == 2 and 'class="alerts"' not in page
    assert '<span class="alert-kind">渠道账单未到</span> 支付宝' in page
    assert '<span class="alert-kind">金额与渠道账单不符</span> 微信支付' in page
    english = client.get(reverse("payments:reports-today"), HTTP_ACCEPT_LANGUAGE="en")
    html = english.content.decode()
    assert '<span class="alert-kind">Gateway&#x27;s bill missing</span> Alipay&#x27;s bill' in html
    assert '<span class="alert-kind">Amount differs from the gateway&#x27;s</span>' in html
