"""The members' report: top-ups, bonus, balance spent, points, coupons used in the period, and
what is owed now, from the members' statements (hand-made, as the services write them)."""

from datetime import date
from decimal import Decimal

import pytest

from payments.coupons.models import Coupon, CouponCode
from payments.members.models import Level, Member, Move
from payments.reports import figures, tables
from payments.reports.figures import Period

from .report_day import at

pytestmark = pytest.mark.django_db
DAY = Period.days(date(2026, 12, 1))


def move(member, kind, when, principal="0", bonus="0", points=0):
    return Move.objects.create(
        member=member, kind=kind, principal=Decimal(principal), bonus=Decimal(bonus),
        points=points, principal_after=member.principal, bonus_after=member.bonus,
        points_after=member.points, created_at=when,
    )  # fmt: skip


def test_members_top_ups_spending_points_coupons_and_what_is_owed(db):
    level = Level.objects.create(name="金卡")
    li = Member.objects.create(number="M1", level=level, principal=Decimal(300),
                               bonus=Decimal(30), points=120)  # fmt: skip
    wang = Member.objects.create(number="M2", level=level, points=5)
    Member.objects.create(number="M3", level=level)
    move(li, Move.Kind.TOP_UP, at(1, 12), principal="500", bonus="50")
    move(li, Move.Kind.SPEND, at(1, 13), principal="-200", bonus="-20")
    move(li, Move.Kind.POINTS_EARN, at(1, 13), points=180)
    move(li, Move.Kind.POINTS_SPEND, at(1, 14), points=-60)
    move(wang, Move.Kind.POINTS_EARN, at(1, 19), points=5)
    move(li, Move.Kind.TOP_UP, at(2, 12), principal="100")  # the next day: not counted
    coupon = Coupon.objects.create(name="满100减20", type=Coupon.Type.THRESHOLD, off=Decimal(20))
    CouponCode.objects.create(coupon=coupon, status=CouponCode.Status.REDEEMED,
                              redeemed_at=at(1, 13))  # fmt: skip
    CouponCode.objects.create(coupon=coupon)  # issued, not used

    rows = {r.what: (r.count, r.amount, r.points) for r in figures.member_figures(DAY)}
    assert rows == {
        "top_up": (1, Decimal("550.00"), None),
        "bonus": (1, Decimal("50.00"), None),
        "spend": (1, Decimal("-220.00"), None),
        "points_earn": (2, None, 185),
        "points_spend": (1, None, -60),
        "coupon:满100减20": (1, None, None),
        "balance_owed": (1, Decimal("330.00"), None),  # 李's 300 + 30 bonus
        "points_owed": (2, None, 125),
    }
    report = tables.build("members", DAY)
    assert ["充值（实收）", 1, Decimal("550.00"), None] in report.rows
    assert ["券核销：满100减20", 1, None, None] in report.rows
