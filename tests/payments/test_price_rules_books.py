"""The price rules in the books (issue 9): a day of bills with a member, a coupon, points-like
money off and a seat charge; the Z report counts each rule by kind as the settlements applied
it, and payments − refunds = the settled totals, also after a whole bill is voided."""

from decimal import Decimal

import pytest

from orders import services as order_services
from orders.models import Area, OrderLine, Tab, Table
from orders.settlement import build_settlement
from payments import services
from payments.books import reports
from payments.books.selectors import open_day
from payments.coupons import services as coupons
from payments.coupons.models import Coupon, CouponCode
from payments.models import Payment, Refund

from .conftest import seat

pytestmark = pytest.mark.django_db


def pay_cash(tab_id, amount, key):
    version = Tab.objects.get(pk=tab_id).version
    return services.payment_start(
        tab_id=tab_id, method="cash", amount=Decimal(amount), version=version, key=key
    )[0]


def test_a_day_of_price_rules_balances_and_the_z_report_names_each_rule(menu, commits):
    Area.objects.create(name="茶楼", seat_charge=Decimal("3.00"), seat_charge_name="茶位费")
    coupon = Coupon.objects.create(name="满40减10", type="threshold", off=10, minimum=40)
    tabs = []
    for n in range(3):
        table = Table.objects.create(code=f"Z{n}", area="茶楼")
        tab = seat(table, menu, key=f"z{n}", guests=2)  # 50 + 2 × 3
        tabs.append(tab)
    order_services.tab_member_set(
        tab_id=tabs[0].pk, member_ref="m", label="金卡", discount_rate=Decimal("0.9")
    )
    for tab in tabs[:2]:
        coupons.coupon_redeem(code=coupons.coupon_issue(coupon=coupon).code, tab_id=tab.pk)
    totals = [build_settlement(tab.pk)["total"] for tab in tabs]
    # 50 × 0.9 = 45, −10, +6 = 41; 50 − 10 + 6 = 46; 56
    assert totals == ["41.00", "46.00", "56.00"]
    for n, tab in enumerate(tabs):
        with commits():
            pay_cash(tab.pk, totals[n], f"p{n}")
    # The third bill is voided whole after paying: its money goes back.
    with commits():
        for line in OrderLine.objects.filter(order__tab=tabs[2]):
            order_services.line_void(line_id=line.pk, reason="客人走了")
    # The second, voided whole too: its coupon is given back with the money.
    with commits():
        for line in OrderLine.objects.filter(order__tab=tabs[1]):
            order_services.line_void(line_id=line.pk, reason="整单退")
    assert CouponCode.objects.filter(status="issued").count() == 1

    paid = sum((p.amount for p in Payment.objects.filter(status="succeeded")), start=Decimal(0))
    refunded = sum((r.amount for r in Refund.objects.filter(status="succeeded")), start=Decimal(0))
    settled = sum((Decimal(build_settlement(t.pk)["total"]) for t in tabs), start=Decimal(0))
    assert (paid, refunded, settled) == (Decimal("143.00"), Decimal("102.00"), Decimal("41.00"))

    z = reports.z_report(open_day())
    assert z["bills"] == 3
    sales = z["sales"]
    assert (sales["subtotal"], sales["discount_total"], sales["total"]) == (
        "50.00",
        "15.00",
        "41.00",
    )
    assert (sales["charges_total"], sales["discounts"]["line"]) == ("6.00", "0.00")
    # Each price rule by kind, as the settlements applied them: what it took off, what it added.
    assert sales["discounts"] == {
        "member_price": "5.00",
        "line": "0.00",
        "coupon": "10.00",
        "points": "0.00",
        "discount": "0.00",
    }
    assert sales["charges"] == {"seat_charge": "6.00", "minimum_spend": "0.00"}


def test_the_report_figures_count_the_price_rules_as_the_bills_do(menu, commits, settings):
    from orders import figures

    settings.SERVICE_CHARGE_PERCENT = 10
    Area.objects.create(name="茶楼", seat_charge=Decimal("3.00"), seat_charge_name="茶位费")
    coupon = Coupon.objects.create(name="满40减10", type="threshold", off=10, minimum=40)
    rich = seat(Table.objects.create(code="R1", area="茶楼"), menu, key="r", guests=2)
    plain = seat(Table.objects.create(code="P1"), menu, key="p", guests=2)
    order_services.tab_member_set(
        tab_id=rich.pk, member_ref="m", label="金卡", discount_rate=Decimal("0.9")
    )
    coupons.coupon_redeem(code=coupons.coupon_issue(coupon=coupon).code, tab_id=rich.pk)
    bills = [build_settlement(tab.pk) for tab in (rich, plain)]
    # rich: 50 − 5 (九折) − 10 + 6 + 10 % of 45 = 45.50; plain: 50 + 5 = 55
    assert [b["total"] for b in bills] == ["45.50", "55.00"]
    totals = figures.bill_totals(Tab.objects.filter(pk__in=[rich.pk, plain.pk]).values("pk"))
    assert totals.sales == Decimal("100.50")
    assert (totals.member_prices, totals.coupons, totals.table_charges) == (
        Decimal("-5.00"),
        Decimal("-10.00"),
        Decimal("6.00"),
    )
    assert totals.service_charge == Decimal("9.50")
