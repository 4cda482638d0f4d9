"""Coupons (issue 9): issued to a member or in a batch, redeemed once on a bill, evaluated by the
settlement, taken off, given back when the bill comes to nothing; validity; bad codes."""

import csv
import io
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from orders import services as order_services
from orders.models import OrderLine, TabAdjustment
from orders.settlement import build_settlement
from payments.coupons import services
from payments.coupons.models import Coupon, CouponCode, CouponEvent
from payments.forms import CouponForm
from payments.services import payment_start
from restaurant.lib.errors import Code, Refused

from .conftest import seat
from .test_payment_races import at_once

pytestmark = pytest.mark.django_db


def make_coupon(**fields):
    fields = {"name": "满40减10", "type": "threshold", "off": Decimal("10"), "minimum": 40} | fields
    return Coupon.objects.create(**fields)


@pytest.fixture
def coupon(db):
    return make_coupon()


@pytest.fixture
def code(coupon):
    return services.coupon_issue(coupon=coupon)


def refuse(code, work):
    with pytest.raises(Refused) as refused:
        work()
    assert refused.value.code == code
    return refused.value


def test_a_redeemed_coupon_is_a_line_of_the_bill(tab, code, cashier):
    # the tab owes 50: 拍黄瓜 12 + 宫保鸡丁 38
    typed = CouponForm.parse({"code": f" {code.code[:4].lower()}-{code.code[4:]} "})["code"]
    services.coupon_redeem(code=typed, tab_id=tab.pk, user=cashier)
    settlement = build_settlement(tab.pk)
    row = settlement["adjustments"][0]
    assert (row["kind"], row["reason"], row["ref"], row["amount"]) == (
        "coupon",
        "满40减10",
        code.code,
        "-10.00",
    )
    assert settlement["total"] == "40.00"
    code.refresh_from_db()
    assert (code.status, code.tab_id, code.redeemed_by) == ("redeemed", tab.pk, cashier)
    assert CouponEvent.objects.filter(code=code, kind="redeemed", tab_id=tab.pk).exists()


def test_the_same_code_twice_on_one_bill_counts_once_and_another_bill_is_refused(
    tab, code, other_table, menu
):
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    assert build_settlement(tab.pk)["total"] == "40.00"
    other = seat(other_table, menu, key="other")
    refuse(Code.COUPON_USED, lambda: services.coupon_redeem(code=code.code, tab_id=other.pk))
    assert build_settlement(other.pk)["total"] == "50.00"


@pytest.mark.parametrize("typed", ["", "nope!", "0000000000", "X" * 41, "ABCDEFGHJK"])
def test_an_unknown_code_is_refused(tab, code, typed):
    """A code that cannot be one is refused at the edge (the till's and the phone's form, the
    API's schema), one that could be but is nobody's by the service; alike."""

    def redeem_as_typed():
        services.coupon_redeem(code=CouponForm.parse({"code": typed})["code"], tab_id=tab.pk)

    refuse(Code.UNKNOWN_COUPON, redeem_as_typed)
    assert not TabAdjustment.objects.exists()


def test_a_coupon_below_its_minimum_is_refused_and_stays_unused(tab, cashier):
    code = services.coupon_issue(coupon=make_coupon(name="满100减20", off=20, minimum=100))
    refused = refuse(
        Code.NOT_APPLICABLE, lambda: services.coupon_redeem(code=code.code, tab_id=tab.pk)
    )
    assert "满100减20" in refused.message
    code.refresh_from_db()
    assert (code.status, code.tab_id) == ("issued", None)
    assert not CouponEvent.objects.filter(kind="redeemed").exists()


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"active": False}, "no longer"),
        ({"valid_until": date(2020, 1, 1)}, "2020-01-01"),
        ({"valid_from": date(2999, 1, 1)}, "2999-01-01"),
        ({"hours_from": time(0, 0), "hours_until": time(0, 1)}, "00:01"),
    ],
)
def test_a_coupon_outside_its_validity_is_refused(tab, settings, fields, words):
    settings.LANGUAGE_CODE = "en"
    if "hours_from" in fields and timezone.localtime().time() < time(0, 1):
        fields = {"hours_from": time(23, 58), "hours_until": time(23, 59)}
        words = "23:59"
    code = services.coupon_issue(coupon=make_coupon(**fields))
    refused = refuse(
        Code.COUPON_NOT_VALID, lambda: services.coupon_redeem(code=code.code, tab_id=tab.pk)
    )
    assert words in refused.message
    assert CouponCode.objects.get().status == "issued"


def test_a_coupon_on_another_weekday_is_refused(tab):
    today = timezone.localtime().isoweekday()
    other_days = "".join(str(d) for d in range(1, 8) if d != today)
    code = services.coupon_issue(coupon=make_coupon(weekdays=other_days))
    refuse(Code.COUPON_NOT_VALID, lambda: services.coupon_redeem(code=code.code, tab_id=tab.pk))


def test_adding_a_dish_or_voiding_one_re_evaluates_the_coupon(tab, code, menu):
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    chicken = OrderLine.objects.get(order__tab=tab, name="宫保鸡丁")
    order_services.line_void(line_id=chicken.pk, reason="不要了")
    settlement = build_settlement(tab.pk)
    row = settlement["adjustments"][0]
    assert (row["applied"], row["why"], settlement["total"]) == (False, "minimum", "12.00")
    order_services.order_submit(
        tab=tab, key="more", lines=[order_services.LineRequest(dish=menu["fish"].pk)]
    )
    assert build_settlement(tab.pk)["total"] == "90.00"  # 12 + 88 − 10


def test_taking_a_coupon_off_makes_it_usable_again(tab, code, other_table, menu):
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    services.coupon_remove(code=code.code, tab_id=tab.pk)
    assert build_settlement(tab.pk)["total"] == "50.00"
    other = seat(other_table, menu, key="other")
    services.coupon_redeem(code=code.code, tab_id=other.pk)
    assert build_settlement(other.pk)["total"] == "40.00"
    refuse(Code.UNKNOWN_COUPON, lambda: services.coupon_remove(code=code.code, tab_id=tab.pk))


def test_a_bill_voided_whole_gives_its_coupon_back(tab, code, commits):
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    with commits():
        for line in OrderLine.objects.filter(order__tab=tab):
            order_services.line_void(line_id=line.pk, reason="客人走了")
    code.refresh_from_db()
    assert (code.status, code.tab_id) == ("issued", None)
    assert not TabAdjustment.objects.exists()
    assert CouponEvent.objects.filter(code=code, kind="given_back").exists()


def test_a_paid_bill_refunded_whole_gives_its_coupon_back(tab, code, commits, cashier):
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    tab.refresh_from_db()
    with commits():
        payment_start(
            tab_id=tab.pk,
            method="cash",
            amount=Decimal("40.00"),
            version=tab.version,
            key="c",
            user=cashier,
        )
    with commits():
        for line in OrderLine.objects.filter(order__tab=tab):
            order_services.line_void(line_id=line.pk, reason="整单退", user=cashier)
    settlement = build_settlement(tab.pk)
    assert (settlement["paid"], settlement["refunded"], settlement["total"]) == (
        "40.00",
        "40.00",
        "0.00",
    )
    assert CouponCode.objects.get().status == "issued"


def test_a_bill_closed_without_using_its_coupon_gives_it_back(tab, code, commits, menu):
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    chicken = OrderLine.objects.get(order__tab=tab, name="宫保鸡丁")
    with commits():
        order_services.line_void(line_id=chicken.pk, reason="不要了")  # 12 left: below 40
    with commits():
        order_services.tab_close(tab_id=tab.pk)
    assert CouponCode.objects.get().status == "issued"


def test_a_bill_closed_having_used_its_coupon_keeps_it_used(tab, code, commits):
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    with commits():
        order_services.tab_close(tab_id=tab.pk)
    assert CouponCode.objects.get().status == "redeemed"


def test_a_batch_is_exported_as_csv_for_printing(db, manager, coupon):
    manager.is_staff = True
    manager.save()
    client = Client()
    client.force_login(manager)
    answer = client.post(
        "/admin/coupons/batch/add/", {"coupon": coupon.pk, "quantity": 30, "note": "开业"}
    )
    assert answer.status_code == 302, answer.content.decode()[-3000:]
    assert CouponCode.objects.filter(batch__isnull=False).count() == 30, answer.url
    batch = coupon.batches.get()
    answer = client.post(
        "/admin/coupons/batch/",
        {"action": "export", "_selected_action": [batch.pk]},
    )
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["code", "coupon", "status", "valid_until", "member"]
    assert len(rows) == 31 and len({row[0] for row in rows[1:]}) == 30
    assert all(len(row[0]) == 10 for row in rows[1:])


# Races on PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_tills_redeeming_one_code_at_the_same_moment_use_it_once(
    needs_postgres, table, other_table, menu
):
    tabs = [seat(table, menu, key="a"), seat(other_table, menu, key="b")]
    code = services.coupon_issue(coupon=make_coupon())

    def redeem(i):
        try:
            services.coupon_redeem(code=code.code, tab_id=tabs[i].pk)
            return "used"
        except Refused as refused:
            return refused.code.value

    for _attempt in range(3):
        results = at_once(2, redeem)
        assert sorted(results) == ["coupon_used", "used"], results
        assert TabAdjustment.objects.count() == 1
        totals = sorted(build_settlement(tab.pk)["total"] for tab in tabs)
        assert totals == ["40.00", "50.00"]
        winner = CouponCode.objects.get().tab_id
        services.coupon_remove(code=code.code, tab_id=winner)


@pytest.mark.django_db(transaction=True)
def test_many_phones_and_tills_on_many_codes_never_use_one_twice(
    needs_postgres, table, other_table, menu
):
    tabs = [seat(table, menu, key="a"), seat(other_table, menu, key="b")]
    coupon = make_coupon(combinable=True, minimum=0, off=1)
    codes = [services.coupon_issue(coupon=coupon).code for _ in range(4)]

    def redeem(i):
        try:
            services.coupon_redeem(code=codes[i % 4], tab_id=tabs[i % 2 if i < 4 else 1 - i % 2].pk)
            return 1
        except Refused:
            return 0

    assert sum(at_once(8, redeem)) == 4
    assert TabAdjustment.objects.count() == 4
    assert CouponCode.objects.filter(status="redeemed").count() == 4
    off = sum(Decimal(build_settlement(tab.pk)["discount_total"]) for tab in tabs)
    assert off == Decimal("4.00")
    assert timedelta(0) <= timezone.now() - CouponCode.objects.first().redeemed_at


# The till, the phone, the API, the receipt -------------------------------------------------------

HTMX = {"HX-Request": "true", "Accept-Language": "zh-hans"}


def test_the_cashier_scans_a_coupon_and_the_bill_shows_it_as_its_own_line(tab, code, cashier):
    counter = Client()
    counter.force_login(cashier)
    answer = counter.post(
        f"/cashier/tabs/{tab.pk}/coupon/",
        {"code": f" {code.code[:5]}-{code.code[5:]} "},
        headers=HTMX,
    )
    assert answer.status_code == 200, answer.content
    page = counter.get(f"/cashier/?tab={tab.pk}", headers={"Accept-Language": "zh-hans"})
    html = page.content.decode()
    assert "优惠券 · 满40减10" in html and "−¥10" in html
    assert build_settlement(tab.pk)["total"] == "40.00"
    again = counter.post(f"/cashier/tabs/{tab.pk}/coupon/", {"code": "NOPE"}, headers=HTMX)
    assert again.status_code == 404 and "没有这张优惠券" in again.content.decode()
    off = counter.post(f"/cashier/tabs/{tab.pk}/coupon/off/", {"code": code.code}, headers=HTMX)
    assert off.status_code == 200
    assert build_settlement(tab.pk)["total"] == "50.00"


def test_a_diner_types_a_coupon_on_the_pay_page(client, table, tab, code):
    answer = client.post(
        f"/t/{table.token}/pay/coupon/", {"code": code.code, "tab": tab.pk}, headers=HTMX
    )
    assert answer.status_code == 200, answer.content
    html = client.get(f"/t/{table.token}/pay/", headers={"Accept-Language": "en"}).content.decode()
    assert "Coupon · 满40减10" in html and "−¥10" in html
    used = client.post(
        f"/t/{table.token}/pay/coupon/", {"code": "ABCDEFGHJK", "tab": tab.pk}, headers=HTMX
    )
    assert used.status_code == 404


def test_the_api_uses_and_takes_off_a_coupon_and_the_settlement_lists_it(
    api, cashier_token, table, tab, code
):
    answer = api.staff_post(f"/tabs/{tab.pk}/coupons", {"code": code.code})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["adjustments"][0]["kind"] == "coupon" and body["total"] == "40.00"
    assert body["discount_total"] == "10.00" and body["charges_total"] == "0.00"
    other = api.post(f"/tables/{table.token}/coupons", {"code": code.code})
    assert other.status_code == 200  # the same code on the same bill: already there
    removed = api.client.delete(
        f"/api/v1/tabs/{tab.pk}/coupons/{code.code}",
        headers={"Authorization": f"Bearer {cashier_token}"},
    )
    assert removed.status_code == 200 and removed.json()["adjustments"] == []
    refused = api.staff_post(f"/tabs/{tab.pk}/coupons", {"code": 12})
    assert refused.status_code == 400
    schema = api.get("/openapi.json").json()["components"]["schemas"]
    assert {"adjustments", "member", "charges_total"} <= set(schema["Settlement"]["properties"])


def test_the_receipt_and_the_printed_bill_show_the_coupon_and_the_seat_charge(
    menu, commits, cashier
):
    from orders.models import Area, Table

    Area.objects.create(name="茶楼", seat_charge=Decimal("3.00"), seat_charge_name="茶位费")
    room = Table.objects.create(code="T1", area="茶楼")
    tab = seat(room, menu, guests=2)
    code = services.coupon_issue(coupon=make_coupon())
    services.coupon_redeem(code=code.code, tab_id=tab.pk)
    settlement = build_settlement(tab.pk)
    assert settlement["total"] == "46.00"  # 50 − 10 + 2 × 3
    counter = Client()
    counter.force_login(cashier)
    html = counter.get(
        f"/cashier/tabs/{tab.pk}/receipt/?paper=80", headers={"Accept-Language": "zh-hans"}
    ).content.decode()
    assert "优惠券 · 满40减10" in html and "茶位费 (2 × ¥3)" in html and "¥46" in html


def test_a_coupon_for_late_night_hours_holds_across_midnight(db):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    coupon = make_coupon(hours_from=time(22, 0), hours_until=time(2, 0))
    shanghai = ZoneInfo("Asia/Shanghai")
    for hour, allowed in ((23, True), (1, True), (2, False), (12, False), (22, True)):
        moment = datetime(2026, 12, 2, hour, 30 if hour != 22 else 0, tzinfo=shanghai)
        assert (coupon.unusable_because(moment) == "") is allowed, hour
