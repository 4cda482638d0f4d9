"""The printed bill carries every price rule as its own line (issue 9): a member's prices, a
coupon, a seat charge, in the settlement's order, with their names and reasons."""

from decimal import Decimal

import pytest

from orders import services as order_services
from orders.models import Area, Table
from payments.coupons import services as coupons
from payments.coupons.models import Coupon
from printing import sender, services

pytestmark = pytest.mark.django_db


def test_a_printed_bill_shows_member_price_coupon_and_seat_charge(menu, kitchen):
    Area.objects.create(name="茶楼", seat_charge=Decimal("3.00"), seat_charge_name="茶位费")
    room = Table.objects.create(code="T9", area="茶楼")
    tab = order_services.tab_for_table(table=room)
    order_services.order_submit(
        tab=tab,
        key="k",
        guests=2,
        lines=[order_services.LineRequest(dish=menu["fish"].pk)],
    )
    line = tab.orders.get().lines.get()
    order_services.line_discount_set(line_id=line.pk, amount=Decimal("2"), reason="熟客")
    order_services.tab_member_set(
        tab_id=tab.pk, member_ref="m-1", label="金卡 王", discount_rate=Decimal("0.9")
    )
    coupon = Coupon.objects.create(name="满50减10", type="threshold", off=10, minimum=50)
    coupons.coupon_redeem(code=coupons.coupon_issue(coupon=coupon).code, tab_id=tab.pk)
    services.bill_print(tab_id=tab.pk, kind="prebill")
    sender.print_jobs_send()
    text = kitchen["fake"]["till"].documents[-1].text
    # 88 − 2 (the dish's discount) − 8.80 (九折) − 10 + 2 × 3 = 73.20
    for expected in (
        "单品优惠",
        "-2.00",
        "会员价 · 金卡 王",
        "-8.80",
        "优惠券 · 满50减10",
        "-10.00",
        "茶位费 (2 × ￥3)",
        "6.00",
    ):
        assert expected in text, (expected, text)
    assert (
        text.index("单品优惠") < text.index("会员价") < text.index("优惠券") < text.index("茶位费")
    )
    assert "73.20" in text
