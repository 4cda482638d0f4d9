"""Each report's figures against the hand-made day (tests/payments/report_day.py), computed by
the database: a bill counts on the business day it was opened, money when it moved."""

from datetime import date
from decimal import Decimal

import pytest

from payments.reports import figures
from payments.reports.figures import Period

from .report_day import make_day

pytestmark = pytest.mark.django_db
DAY = Period.days(date(2026, 12, 1))


@pytest.fixture
def day(menu, cashier, manager):
    return make_day(menu, cashier, manager)


def test_the_days_bills_are_summed_without_the_bills_either_side(day):
    totals = figures.day_figures(date(2026, 12, 1)).bills
    assert totals.bills == 3 and totals.guests == 12
    assert totals.gross == Decimal("326.00")  # 88 + 62 + 176, the voided fish left out
    assert totals.line_discounts == Decimal("6.00")
    assert totals.bill_discounts == Decimal("10.00")
    assert totals.service_charge == Decimal("0.00")
    assert totals.sales == Decimal("310.00")
    assert (totals.voided_lines, totals.voided_quantity) == (1, 1)
    assert totals.voided_amount == Decimal("88.00")
    assert totals.open_bills == 0


def test_the_late_supper_paid_after_midnight_counts_for_the_evening(day):
    money = figures.money_totals(DAY)
    assert money.payments == 3  # cash 82, WeChat 52, card 176 at 01:30; not the failed one
    assert money.paid == Decimal("310.00")
    assert (money.refunds, money.refunded) == (1, Decimal("20.00"))
    assert money.received == Decimal("290.00")


def test_the_z_report_averages_per_guest_and_per_bill_and_turns_the_tables(day):
    z = figures.day_figures(date(2026, 12, 1))
    assert z.average_per_guest == Decimal("25.83")  # 310 / 12
    assert z.average_per_bill == Decimal("103.33")
    assert z.table_turns == Decimal("1.00")  # 3 bills at 3 tables


def test_the_service_charge_is_each_bills_own_rounded_to_the_fen(day, settings):
    settings.SERVICE_CHARGE_PERCENT = "10"
    totals = figures.day_figures(date(2026, 12, 1)).bills
    assert totals.service_charge == Decimal("32.00")  # 8.20 + 6.20 + 17.60
    assert totals.sales == Decimal("342.00")


def test_the_service_charge_rounds_each_bills_half_fen_up(day, settings):
    # 0.75 % of 82, 62 and 176 is 0.615, 0.465 and 1.32: half up each, as the settlement does,
    # 0.62 + 0.47 + 1.32 (cut off it would be 2.39, to even 2.40). On SQLite too, where whole
    # amounts are integers and an integer division once dropped the fen (31.00 for 32.00).
    settings.SERVICE_CHARGE_PERCENT = "0.75"
    assert figures.day_figures(date(2026, 12, 1)).bills.service_charge == Decimal("2.41")


def test_payment_methods_net_of_refunds_largest_first(day):
    rows = figures.method_figures(DAY)
    assert [(r.method, r.provider, r.payments, r.amount, r.refunds, r.refunded, r.net, r.share)
            for r in rows] == [
        ("card", "card", 1, Decimal("176.00"), 1, Decimal("20.00"), Decimal("156.00"),
         Decimal("53.8")),
        ("cash", "cash", 1, Decimal("82.00"), 0, Decimal("0.00"), Decimal("82.00"),
         Decimal("28.3")),
        ("qr", "wechatpay", 1, Decimal("52.00"), 0, Decimal("0.00"), Decimal("52.00"),
         Decimal("17.9")),
    ]  # fmt: skip


def test_dishes_best_seller_first_with_quantity_amount_share_and_voids(day):
    rows = figures.dish_sales(DAY)
    assert [(r.name, r.category, r.quantity, r.amount, r.voided_quantity, r.voided_amount)
            for r in rows] == [
        ("清蒸鲈鱼", "热菜", 2, Decimal("176.00"), 1, Decimal("88.00")),
        ("宫保鸡丁", "热菜", 3, Decimal("108.00"), 0, Decimal("0.00")),
        ("拍黄瓜", "凉菜", 3, Decimal("36.00"), 0, Decimal("0.00")),
    ]  # fmt: skip
    assert [r.share for r in rows] == [Decimal("55.0"), Decimal("33.8"), Decimal("11.3")]


def test_a_dish_on_the_menu_that_nobody_ordered_is_the_last_of_the_dishes(day, menu):
    from menu.models import Dish

    Dish.objects.create(category=menu["fish"].category, name="酸菜鱼", price=Decimal(68))
    Dish.objects.create(category=menu["fish"].category, name="停售菜", price=Decimal(1),
                        active=False)  # fmt: skip
    rows = figures.dish_sales(DAY)
    assert [(r.name, r.quantity, r.amount, r.share) for r in rows[3:]] == [
        ("酸菜鱼", 0, Decimal("0.00"), Decimal(0))
    ]
    assert [r.share for r in rows[:3]] == [Decimal("55.0"), Decimal("33.8"), Decimal("11.3")]


def test_categories_with_their_share(day):
    rows = figures.category_sales(DAY)
    assert [(r.category, r.quantity, r.amount, r.voided_quantity, r.share) for r in rows] == [
        ("热菜", 5, Decimal("284.00"), 1, Decimal("88.8")),
        ("凉菜", 3, Decimal("36.00"), 0, Decimal("11.3")),
    ]


def test_sales_by_the_hour_they_were_ordered_all_24_hours(day):
    rows = figures.sales_by_hour(DAY)
    assert [r.hour for r in rows] == list(range(24))
    busy = {r.hour: (r.quantity, r.amount, r.orders) for r in rows if r.quantity}
    assert busy == {
        12: (3, Decimal("82.00"), 1),
        18: (3, Decimal("62.00"), 1),
        23: (2, Decimal("176.00"), 1),
    }


def test_sales_by_business_day_week_and_month(day):
    around = Period.days(date(2026, 11, 30), date(2026, 12, 2))
    days = figures.sales_by(around, "day")
    assert [(r.day, r.bills, r.guests, r.amount, r.bill_discounts) for r in days] == [
        (date(2026, 11, 30), 1, 2, Decimal("38.00"), Decimal("0.00")),
        (date(2026, 12, 1), 3, 12, Decimal("320.00"), Decimal("10.00")),
        (date(2026, 12, 2), 1, 1, Decimal("12.00"), Decimal("0.00")),
    ]
    weeks = figures.sales_by(around, "week")
    assert [(r.day, r.bills, r.amount) for r in weeks] == [(date(2026, 11, 30), 5, Decimal(370))]
    months = figures.sales_by(around, "month")
    assert [(r.day, r.bills, r.amount) for r in months] == [
        (date(2026, 11, 1), 1, Decimal("38.00")),
        (date(2026, 12, 1), 4, Decimal("332.00")),
    ]


def test_tables_and_areas_with_turns_average_bill_and_time_seated(day):
    rows = figures.table_figures(DAY)
    assert [(r.area, r.table, r.bills, r.guests, r.amount, r.average_bill, r.minutes_seated)
            for r in rows] == [
        ("包间", "V1", 1, 6, Decimal("176.00"), Decimal("176.00"), 150),
        ("大厅", "A1", 1, 2, Decimal("82.00"), Decimal("82.00"), 60),
        ("大厅", "A2", 1, 4, Decimal("62.00"), Decimal("62.00"), 90),
    ]  # fmt: skip
    areas = figures.area_figures(DAY)
    assert [(a.area, a.tables, a.bills, a.guests, a.amount, a.average_bill) for a in areas] == [
        ("包间", 1, 1, 6, Decimal("176.00"), Decimal("176.00")),
        ("大厅", 2, 2, 6, Decimal("144.00"), Decimal("72.00")),
    ]


def test_staff_orders_voids_discounts_and_refunds(day, cashier, manager):
    rows = {r.username: r for r in figures.staff_figures(DAY)}
    assert set(rows) == {"cashier", "manager"}
    c, m = rows["cashier"], rows["manager"]
    assert (c.orders, c.voids, c.discounts, c.refunds, c.refunded) == (
        2, 0, 1, 1, Decimal("20.00"),
    )  # fmt: skip
    assert (m.orders, m.voids, m.voided_amount, m.discounts, m.refunds) == (
        0, 1, Decimal("88.00"), 0, 0,
    )  # fmt: skip


def test_the_kitchens_average_time_to_ready(day):
    from orders import figures as orders_figures

    assert orders_figures.kitchen_minutes_to_ready(DAY.start, DAY.end) == 15  # 20 and 10


def test_a_bill_not_settled_yet_is_in_no_days_sales(day, menu):
    from orders.models import Order, OrderLine, Tab, Table

    from .report_day import at

    open_bill = Tab.objects.create(table=Table.objects.create(code="B9"), guests=2,
                                   opened_at=at(1, 21))  # fmt: skip
    order = Order.objects.create(tab=open_bill, number=1, key="k", created_at=at(1, 21, 5))
    OrderLine.objects.create(order=order, dish=menu["fish"], name="清蒸鲈鱼", quantity=1,
                             unit_price=Decimal(88), amount=Decimal(88))  # fmt: skip
    totals = figures.day_figures(date(2026, 12, 1)).bills
    assert (totals.bills, totals.sales) == (3, Decimal("310.00"))
    # …but its dish shows in the hour it was ordered (the kitchen cooked it).
    assert figures.sales_by_hour(DAY)[21].amount == Decimal("88.00")


def test_an_empty_period_has_zeros_not_errors(db):
    z = figures.day_figures(date(2026, 12, 1))
    assert z.bills.bills == 0 and z.bills.sales == Decimal("0.00")
    assert z.average_per_guest is None and z.average_per_bill is None
    assert z.methods == [] and z.categories == []
    assert figures.sales_by(DAY, "day") == [] and figures.table_figures(DAY) == []
