"""The books: shifts and their handover arithmetic, the day close and its Z report, a change
after the close, and the audit trail (append-only, and each kind found)."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError
from django.test import Client

from orders import services as order_services
from orders.models import OrderLine, Tab
from payments import services
from payments.books import reports
from payments.books import services as books
from payments.books.models import BusinessDay, Posting
from payments.books.selectors import audit_search, open_day
from restaurant.lib.audit import AuditEntry, AuditIsAppendOnly, audit_record
from restaurant.lib.business_day import today
from restaurant.lib.errors import Code, Refused

from .conftest import seat

pytestmark = pytest.mark.django_db


def cash(tab, amount, key, user=None):
    """Cash above what is owed is tendered: the change is given."""
    version = Tab.objects.get(pk=tab.pk).version
    return services.payment_start(
        tab_id=tab.pk, method="cash", amount=Decimal(amount), version=version, key=key, user=user
    )[0]


def card(tab, amount, key, user=None):
    version = Tab.objects.get(pk=tab.pk).version
    return services.payment_start(
        tab_id=tab.pk, method="card", amount=Decimal(amount), version=version, key=key, user=user,
        terminal_ref="T",
    )[0]  # fmt: skip


def refused(code, call, *args, **kwargs):
    with pytest.raises(Refused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code
    return caught.value


def test_handover_expects_float_plus_cash_net_plus_paid_in_minus_paid_out(tab, cashier, commits):
    shift = books.shift_open(user=cashier, till="前台", float_amount=Decimal("200"))
    with commits():
        card(tab, "20", "b", user=cashier)
        cash(tab, "50", "a", user=cashier)  # 30 owed: 50 in, 20 change out
        services.refund_create(payment_id=tab_payment(tab, "card"), amount=Decimal("5"), reason="少上一道",
                               user=cashier)  # fmt: skip
        services.refund_create(payment_id=tab_payment(tab, "cash"), amount=Decimal("3"), reason="找错",
                               user=cashier)  # fmt: skip
    books.cash_move(user=cashier, direction="in", amount=Decimal("100"), reason="换零钱")
    books.cash_move(user=cashier, direction="out", amount=Decimal("45.5"), reason="买菜")

    figures = reports.shift_figures(shift)
    methods = {m["account"]: m for m in figures["methods"]}
    assert methods["cash"]["received"] == Decimal("50.00")
    assert methods["cash"]["change"] == Decimal("-20.00")
    assert methods["cash"]["refunded"] == Decimal("-3.00")
    assert methods["card"]["net"] == Decimal("15.00")
    # 200 float + (50 − 20 − 3) cash + 100 in − 45.50 out
    assert figures["cash_expected"] == Decimal("281.50")

    # A short drawer needs a reason; with one it is recorded, and the audit has it.
    refused(Code.DIFFERENCE_NEEDS_REASON, books.shift_hand_over, user=cashier,
            shift_id=shift.pk, counted=Decimal("280"))  # fmt: skip
    shift = books.shift_hand_over(
        user=cashier,
        shift_id=shift.pk,
        denominations={"100": 2, "50": 1, "20": 1, "10": 1},
        reason="找零多找了",
        left_in_drawer=Decimal("200"),
    )
    assert (shift.counted, shift.difference, shift.taken_out) == (
        Decimal("280.00"),
        Decimal("-1.50"),
        Decimal("80.00"),
    )
    assert shift.expected["cash_expected"] == "281.50"
    entry = audit_search(kind="shift").get()
    assert (entry.amount, entry.reason, entry.actor) == (Decimal("-1.50"), "找零多找了", "cashier")
    refused(Code.SHIFT_HANDED_OVER, books.shift_hand_over, user=cashier, shift_id=shift.pk,
            counted=Decimal("280"), reason="x")  # fmt: skip


def tab_payment(tab, method):
    return tab_payments(tab).get(method=method).pk


def tab_payments(tab):
    from payments.models import Payment

    return Payment.objects.filter(tab=tab)


def test_the_next_cashier_takes_over_the_drawer_left(cashier, manager):
    first = books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    refused(Code.TILL_BUSY, books.shift_open, user=manager, till="1")
    refused(Code.SHIFT_OPEN, books.shift_open, user=cashier, till="2")
    books.shift_hand_over(user=cashier, shift_id=first.pk, counted=Decimal("100"),
                          left_in_drawer=Decimal("60"))  # fmt: skip
    second = books.shift_open(user=manager, till="1")
    assert second.float_amount == Decimal("60.00")


def test_money_nobody_at_a_till_took_goes_to_the_shift_open_longest(tab, cashier, commits):
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("0"))
    with commits():
        card(tab, "50", "a", user=None)  # a phone, a terminal: no cashier
    assert Posting.objects.get().shift == shift


def test_day_close_is_refused_while_a_table_is_open_and_carries_over_with_a_reason(
    tab, manager, other_table, menu, commits
):
    day = open_day()
    refused(Code.DAY_HAS_OPEN_BILLS, books.day_close, user=manager, day=day)
    assert not BusinessDay.objects.exists()
    closed = books.day_close(user=manager, day=day, carry_reason="包厢客人还在用餐")
    assert [c["tab"] for c in closed.carried_over] == [tab.pk]
    assert audit_search(kind="carry_over").get().reason == "包厢客人还在用餐"
    assert audit_search(kind="day_close").get().subject == day.isoformat()
    refused(Code.DAY_CLOSED, books.day_close, user=manager, day=day)
    # The carried-over bill, paid now, counts in the next day.
    with commits():
        cash(tab, "50", "a")
    assert open_day() > day
    assert reports.z_report(open_day())["bills"] == 1
    assert reports.z_report(day)["bills"] == 0


def test_day_close_is_refused_while_a_shift_is_open(manager, cashier):
    books.shift_open(user=cashier, till="1", float_amount=Decimal("0"))
    refused(Code.SHIFTS_STILL_OPEN, books.day_close, user=manager, day=open_day())


def test_a_change_after_the_close_posts_to_the_next_day_and_never_rewrites_the_closed_one(
    tab, manager, cashier, commits
):
    with commits():
        paid = cash(tab, "50", "a", user=cashier)
    with commits():
        order_services.tab_close(tab_id=tab.pk, user=cashier)
    day = open_day()
    closed = books.day_close(user=manager, day=day)
    z = closed.report
    assert (z["bills"], z["sales"]["total"], z["takings"], z["guests"]) == (1, "50.00", "50.00", 2)
    assert {c["category"]: c["gross"] for c in z["categories"]} == {
        "凉菜": "12.00",
        "热菜": "38.00",
    }

    with commits():
        services.refund_create(
            payment_id=paid.pk, amount=Decimal("12"), reason="拍黄瓜太咸", user=manager
        )
    # The closed day is as it was at its close; the refund is the next day's adjustment.
    assert reports.z_report(day)["takings"] == "50.00"
    following = reports.z_report(open_day())
    assert following["day"] > day.isoformat()
    assert following["refunds"] == "12.00"
    assert following["takings"] == "-12.00"
    assert following["adjustments"] == [
        {"tab_id": tab.pk, "account": "cash", "kind": "refund", "amount": "-12.00"}
    ]


def test_the_z_report_counts_voids_discounts_and_covers(tab, cashier, manager, commits):
    with commits():
        order_services.line_void(
            line_id=OrderLine.objects.get(order__tab=tab, name="拍黄瓜").pk, reason="没货了",
            user=cashier,
        )  # fmt: skip
        order_services.tab_discount_set(tab_id=tab.pk, amount=Decimal("3"), reason="老顾客",
                                        user=cashier)  # fmt: skip
    with commits():
        cash(tab, "35", "a")
    z = reports.z_report(open_day())
    assert z["voids"] == {"lines": 1, "portions": 1, "amount": "12.00"}
    assert (z["sales"]["discounts"]["discount"], z["sales"]["total"], z["per_guest"]) == (
        "3.00",
        "35.00",
        "17.50",
    )


def test_the_audit_finds_each_kind(tab, cashier, manager, menu, commits, client):
    with commits():
        paid = card(tab, "50", "a", user=cashier)
        services.refund_create(
            payment_id=paid.pk, amount=Decimal("5"), reason="菜凉了", user=manager
        )
        order_services.line_void(
            line_id=OrderLine.objects.get(order__tab=tab, name="拍黄瓜").pk, reason="太咸",
            user=manager,
        )  # fmt: skip
    order_services.tab_discount_set(tab_id=tab.pk, amount=Decimal("1"), reason="老顾客",
                                    user=manager)  # fmt: skip
    from menu.services import dish_set_availability

    dish_set_availability(dish_id=menu["chicken"].pk, stock=3, user=manager)
    client.force_login(manager)  # Django's login signal
    Client().post("/accounts/login/", {"username": "cashier", "password": "wrong"})
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("0"))
    books.cash_move(user=cashier, direction="out", amount=Decimal("5"), reason="冰块")
    books.shift_hand_over(user=cashier, shift_id=shift.pk, counted=Decimal("0"), reason="少了5")
    from payments.members import services as members

    member = members.member_create(mobile="13800138000", user=manager)
    members.member_adjust(member_id=member.pk, balance=Decimal("10"), points=5, reason="补录活动赠送",
                          user=manager)  # fmt: skip
    found = set(AuditEntry.objects.values_list("kind", flat=True))
    assert {"refund", "void", "discount", "stock", "login", "login_failed", "cash", "shift",
            "member"} <= found  # fmt: skip
    assert audit_search(table=tab.table.code, kind="void").get().reason == "太咸"
    assert audit_search(who="manag", kind="refund").get().amount == Decimal("5.00")
    assert audit_search(text="老顾客").get().kind == "discount"
    assert audit_search(kind="login_failed").get().actor == "cashier"
    adjusted = audit_search(kind="member").get()
    assert (adjusted.subject, adjusted.amount, adjusted.reason, adjusted.actor) == (
        member.number, Decimal("10.00"), "补录活动赠送", "manager")  # fmt: skip


def test_the_audit_cannot_be_changed_from_the_application_nor_in_the_database(manager):
    entry = audit_record(kind=AuditEntry.Kind.DAY_CLOSE, user=manager, subject="x")
    entry.reason = "rewritten"
    with pytest.raises(AuditIsAppendOnly):
        entry.save()
    with pytest.raises(AuditIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditIsAppendOnly):
        AuditEntry.objects.update(reason="x")
    with pytest.raises(AuditIsAppendOnly):
        AuditEntry.objects.all().delete()
    if connection.vendor != "postgresql":
        pytest.skip("the database trigger is PostgreSQL's")
    for sql in (
        "UPDATE restaurant_auditentry SET reason = 'x'",
        "DELETE FROM restaurant_auditentry",
        "TRUNCATE restaurant_auditentry",
    ):
        with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


def test_a_day_not_begun_cannot_be_closed(manager):
    from datetime import timedelta

    refused(Code.DAY_NOT_OVER, books.day_close, user=manager, day=today() + timedelta(days=2))


def test_the_z_report_agrees_with_the_reports_figures_on_an_ordinary_day(
    tab, table, other_table, menu, cashier, commits
):
    """On a day with nothing carried over and nothing after a close, the Z report (counted by
    postings and settled bills) and the reports' day figures (counted by time) agree."""
    from payments.reports.figures import day_figures

    second = seat(other_table, menu, key="second", guests=3)
    with commits():
        order_services.line_void(
            line_id=OrderLine.objects.get(order__tab=second, name="拍黄瓜").pk, reason="没货",
            user=cashier,
        )  # fmt: skip
        cash(tab, "60", "a", user=cashier)  # 10 change
        card(second, "38", "b", user=cashier)
        services.refund_create(payment_id=tab_payment(second, "card"), amount="8",
                               reason="上菜慢", user=cashier)  # fmt: skip
    z = reports.z_report(open_day())
    figures = day_figures(open_day())
    assert z["bills"] == figures.bills.bills == 2
    assert z["guests"] == figures.bills.guests == 5
    assert Decimal(z["sales"]["total"]) == figures.bills.sales == Decimal("88.00")
    assert Decimal(z["voids"]["amount"]) == figures.bills.voided_amount == Decimal("12.00")
    assert Decimal(z["takings"]) == figures.money.received == Decimal("80.00")
    assert Decimal(z["refunds"]) == figures.money.refunded == Decimal("8.00")


def test_the_z_report_counts_seat_charges_as_the_bills_priced_them(table, menu, commits):
    from orders.models import Area

    Area.objects.create(name="大厅", seat_charge=Decimal("2"), seat_charge_name="茶位费")
    table.area = "大厅"
    table.save()
    tab = seat(table, menu, guests=3)  # 50 of dishes + 3 × 2 of 茶位费
    with commits():
        cash(tab, "56", "a")
    z = reports.z_report(open_day())
    assert z["sales"]["charges"]["seat_charge"] == "6.00"
    assert (z["sales"]["total"], z["takings"]) == ("56.00", "56.00")


def test_a_day_left_unclosed_is_offered_first_and_todays_open_tables_do_not_block_it(
    tab, table, other_table, menu, manager, commits
):
    from datetime import timedelta

    from payments.books.models import TabDay
    from payments.books.selectors import day_to_close, day_view

    yesterday = open_day() - timedelta(days=1)
    earlier = seat(other_table, menu, key="earlier")
    with commits():
        cash(earlier, "50", "a")
    TabDay.objects.filter(tab=earlier).update(day=yesterday)  # as if settled yesterday
    assert day_to_close() == yesterday
    assert day_view()["open_tabs"] == []  # `tab` was opened today, after yesterday's end
    closed = books.day_close(user=manager, day=yesterday)
    assert (closed.report["bills"], closed.carried_over) == (1, [])
    assert day_to_close() == open_day()
    refused(Code.DAY_HAS_OPEN_BILLS, books.day_close, user=manager, day=open_day())


def test_a_member_top_up_in_cash_is_in_the_drawer_and_in_the_z_report(cashier, manager):
    from payments.members import services as members

    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    member = members.member_create(mobile="13900139000", user=cashier)
    members.top_up_create(
        member_id=member.pk, amount=Decimal("500"), method="cash", key="t", user=cashier
    )
    figures = reports.shift_figures(shift)
    assert figures["cash_expected"] == Decimal("600.00")
    assert figures["member"]["top_ups"] == Decimal("500.00")
    z = reports.z_report(open_day())
    assert (z["member"]["top_ups"], z["takings"]) == ("500.00", "500.00")
