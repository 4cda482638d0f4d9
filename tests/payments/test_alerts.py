"""Reconciliation alerts (restaurant/lib/alerts.py): what is still wrong after the gateways' bills
are checked is an alert for the manager, raised once however often or by however many workers
the check runs; the manager marks it handled with a note (who, when, the note, the audit
trail); the worker's `reconcile` job checks yesterday once its bills are in."""

import threading
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from payments.models import GatewayBill
from payments.reports.reconcile import (
    _window_complete,
    reconcile_alert,
    reconcile_check,
    reconcile_due,
)
from restaurant.lib.alerts import Alert, alert_handle, alert_raise
from restaurant.lib.audit import AuditEntry
from restaurant.lib.errors import Refused
from restaurant.lib.once import JobRun
from tests.writes import statements

from .test_reconcile import DAY, day, row  # noqa: F401 (the day fixture)

pytestmark = pytest.mark.django_db
CHINA_NOW = timezone.get_fixed_timezone(8 * 60)


def alerts():
    return {(a.kind, a.detail["number"]) for a in Alert.objects.all()}


def next_days_bill():
    """The gateway's bill of the day after DAY: "recorded here only" of DAY can be trusted."""
    GatewayBill.objects.create(provider="wechatpay", bill_date=DAY + timedelta(days=1), rows=[])


def test_each_mismatch_of_the_day_is_one_alert_with_its_numbers(day, commits):  # noqa: F811
    next_days_bill()
    with commits():
        reconcile_check(day=DAY)
    assert alerts() == {
        (Alert.Kind.MISSING_HERE, "dcnobodyknows"),
        (Alert.Kind.AMOUNT_DIFFERS, "dcdiffers"),
        (Alert.Kind.MISSING_THERE, "dcnotthere"),
    }
    differs = Alert.objects.get(kind=Alert.Kind.AMOUNT_DIFFERS)
    assert differs.detail == {"gateway": "WeChat Pay", "day": "2026-12-01", "what": "payment",
                              "number": "dcdiffers", "amount": "31.00", "ours": "30.00"}  # fmt: skip
    assert differs.link == reverse("payments:reconcile") + "?day=2026-12-01"
    unknown = Alert.objects.get(kind=Alert.Kind.MISSING_HERE)
    assert unknown.detail["outcome"] == "unknown" and unknown.detail["amount"] == "18.00"
    assert not any(a.is_handled for a in Alert.objects.all())


def test_an_alert_reads_in_the_managers_language(day):  # noqa: F811
    reconcile_check(day=DAY)
    differs = Alert.objects.get(kind=Alert.Kind.AMOUNT_DIFFERS)
    from django.utils import translation

    with translation.override("en"):
        assert differs.text == (
            "WeChat Pay's bill of 2026-12-01 has payment dcdiffers at ¥31.00; here it is ¥30.00."
        )
    with translation.override("zh-hans"):
        assert (
            "微信支付" in differs.text and "dcdiffers" in differs.text and "¥30.00" in differs.text
        )


def test_checking_again_raises_nothing_new_even_after_an_alert_was_handled(day, manager):  # noqa: F811
    next_days_bill()
    reconcile_check(day=DAY)
    first = set(Alert.objects.values_list("pk", flat=True))
    alert_handle(alert_id=min(first), user=manager, note="问过微信支付")
    reconcile_check(day=DAY)
    reconcile_alert(day=DAY)
    assert set(Alert.objects.values_list("pk", flat=True)) == first


@pytest.mark.django_db(transaction=True)
def test_two_reconcile_jobs_at_once_check_the_day_once_and_raise_each_alert_once(
    menu, cashier, manager, needs_postgres
):
    from .report_day import make_day
    from .test_reconcile import wechat_paid

    made = make_day(menu, cashier, manager)
    wechat_paid(made["bills"][2], "dcdiffers", "30", timezone.now() - timedelta(days=1))
    yesterday = (timezone.now().astimezone(CHINA_NOW) - timedelta(days=1)).date()
    GatewayBill.objects.create(provider="wechatpay", bill_date=yesterday, rows=[
        row("dcdiffers", "31.00", time=f"{yesterday} 12:00:00"),
        row("dcstranger", "9.00", time=f"{yesterday} 12:01:00"),
    ])  # fmt: skip
    noon = datetime.combine(yesterday + timedelta(days=1), datetime.min.time(), CHINA_NOW)
    noon += timedelta(hours=11)
    barrier, done = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait()
            done.append(reconcile_due(now=noon))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == [0, 1]  # one copy reconciled, the other found it claimed
    assert alerts() == {(Alert.Kind.AMOUNT_DIFFERS, "dcdiffers"),
                        (Alert.Kind.MISSING_HERE, "dcstranger")}  # fmt: skip
    [run] = JobRun.objects.filter(job="reconcile")
    assert run.done_at is not None and run.period.startswith(yesterday.isoformat())
    assert reconcile_due(now=noon + timedelta(hours=1)) == 0  # done: the next rounds pass by


def test_the_job_waits_for_ten_oclock_and_for_a_bill(db):
    yesterday = date(2026, 12, 1)
    nine = datetime(2026, 12, 2, 9, 59, tzinfo=CHINA_NOW)
    assert reconcile_due(now=nine) == 0
    assert reconcile_due(now=nine + timedelta(hours=1)) == 0  # no bill of yesterday yet
    assert not JobRun.objects.exists()
    GatewayBill.objects.create(provider="wechatpay", bill_date=yesterday, rows=[], digest="a")
    assert reconcile_due(now=nine + timedelta(hours=1)) == 1
    assert reconcile_due(now=nine + timedelta(hours=2)) == 0
    # A bill changed since (a file the manager uploaded): checked again, once.
    GatewayBill.objects.filter(bill_date=yesterday).update(
        digest="b", rows=[row("dclate", "7.00", time="2026-12-01 10:00:00")]
    )
    assert reconcile_due(now=nine + timedelta(hours=3)) == 1
    assert reconcile_due(now=nine + timedelta(hours=4)) == 0
    assert alerts() == {(Alert.Kind.MISSING_HERE, "dclate")}


def test_recorded_here_only_waits_for_the_next_days_bill(day):  # noqa: F811
    later = timezone.now().astimezone(CHINA_NOW).date() + timedelta(days=10)
    GatewayBill.objects.create(provider="alipay", bill_date=later, rows=[])
    assert not _window_complete(later)  # the next day's bill is not out: 23:59 may be on it
    GatewayBill.objects.create(provider="alipay", bill_date=later + timedelta(days=1), rows=[])
    assert _window_complete(later)
    assert _window_complete(date(2026, 11, 1))  # long past: no bill of the next day will come
    reconcile_alert(day=DAY, missing_there=False)
    assert (Alert.Kind.MISSING_THERE, "dcnotthere") not in alerts()
    reconcile_alert(day=DAY, missing_there=True)
    assert (Alert.Kind.MISSING_THERE, "dcnotthere") in alerts()


def test_handling_keeps_who_when_and_the_note_and_is_in_the_audit_trail(day, manager, commits):  # noqa: F811
    reconcile_check(day=DAY)
    alert = Alert.objects.get(kind=Alert.Kind.AMOUNT_DIFFERS)
    with pytest.raises(Refused) as refused:
        alert_handle(alert_id=alert.pk, user=manager, note="   ")
    assert refused.value.code == "reason_required"
    alert.refresh_from_db()
    assert not alert.is_handled
    with commits():
        handled, now = alert_handle(alert_id=alert.pk, user=manager, note="微信少收1元，已补")
    assert now and handled.handled_by == "manager" and handled.handled_by_id == manager.pk
    assert handled.note == "微信少收1元，已补"
    assert timezone.now() - handled.handled_at < timedelta(seconds=5)
    [entry] = AuditEntry.objects.filter(kind=AuditEntry.Kind.ALERT)
    assert entry.actor == "manager" and entry.reason == "微信少收1元，已补"
    assert entry.detail["alert"] == alert.pk
    # A second tap (or another manager) changes nothing: the first note stays.
    again, now = alert_handle(alert_id=alert.pk, user=manager, note="再点一次")
    assert not now and again.note == "微信少收1元，已补" and again.handled_at == handled.handled_at
    assert AuditEntry.objects.filter(kind=AuditEntry.Kind.ALERT).count() == 1


def test_the_today_page_shows_open_alerts_and_handles_one(day, client, manager, cashier):  # noqa: F811
    next_days_bill()
    reconcile_check(day=DAY)
    client.force_login(manager)
    page = client.get(reverse("payments:reports-today")).content.decode()
    assert page.count('class="alert-item"') == 3 and "dcdiffers" in page
    assert 'ws-connect="/ws/manager/alerts/' in page
    alert = Alert.objects.get(kind=Alert.Kind.AMOUNT_DIFFERS)
    url = reverse("payments:alert-handle", args=[alert.pk])
    refused = client.post(url, {"note": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "请填写原因" in refused.content.decode()
    answer = client.post(url, {"note": "已核对"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'id="manager-alerts"' in html and html.count('class="alert-item"') == 2
    assert "已核对" in html
    second = client.post(url, {"note": "again"}, HTTP_HX_REQUEST="true").content.decode()
    assert "manager" in second and Alert.objects.get(pk=alert.pk).note == "已核对"
    # Without script: back to the page. Others may not.
    other = Alert.objects.get(kind=Alert.Kind.MISSING_THERE)
    plain = client.post(reverse("payments:alert-handle", args=[other.pk]), {"note": "查过"})
    assert plain.status_code == 302 and Alert.objects.get(pk=other.pk).is_handled
    assert (
        client.post(reverse("payments:alert-handle", args=[999999]), {"note": "x"}).status_code
        == 404
    )
    client.force_login(cashier)
    last = Alert.objects.get(kind=Alert.Kind.MISSING_HERE)
    assert (
        client.post(reverse("payments:alert-handle", args=[last.pk]), {"note": "x"}).status_code
        == 403
    )
    assert not Alert.objects.get(pk=last.pk).is_handled


def test_reading_the_today_page_with_alerts_writes_nothing(day, client, manager):  # noqa: F811
    next_days_bill()
    reconcile_check(day=DAY)
    client.force_login(manager)
    client.get(reverse("payments:reports-today"))  # the session's first use may save it
    with statements() as sent:
        page = client.get(reverse("payments:reports-today"))
    assert page.status_code == 200 and page.content.decode().count('class="alert-item"') == 3
    assert sent.writes() == []


def test_the_job_raises_the_day_befores_recorded_here_only_once_yesterdays_bill_is_in(tab):
    from .report_day import at
    from .test_reconcile import wechat_paid

    wechat_paid(tab, "dcnotlisted", "40", at(30, 21, month=11))  # on no gateway's bill
    GatewayBill.objects.create(provider="wechatpay", bill_date=date(2026, 11, 30), digest="x",
                               rows=[row("dcunasked", "5.00", time="2026-11-30 12:00:00")])  # fmt: skip
    GatewayBill.objects.create(provider="wechatpay", bill_date=date(2026, 12, 1), rows=[])
    assert reconcile_due(now=datetime(2026, 12, 2, 11, tzinfo=CHINA_NOW)) == 1
    # 11-30's own check (a day earlier) raises its other kinds; this run only what waited.
    assert alerts() == {(Alert.Kind.MISSING_THERE, "dcnotlisted")}


def test_the_page_shows_the_newest_fifty_open_alerts_and_counts_them_all(client, manager):
    for n in range(52):
        alert_raise(key=f"backup:day-{n}", kind=Alert.Kind.BACKUP_FAILED,
                    detail={"day": f"day-{n}", "error": "disk full"})  # fmt: skip
    client.force_login(manager)
    page = client.get(reverse("payments:reports-today")).content.decode()
    assert page.count('class="alert-item"') == 50 and '<span class="count">52</span>' in page
    assert "共 52 条待处理提醒，这里显示最新的 50 条" in page
    assert "day-51" in page and "day-0 " not in page  # the newest first
