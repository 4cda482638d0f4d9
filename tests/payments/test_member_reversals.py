"""Giving back (issue 9): points spent as money off (积分抵现) and coupons come back, once, when
a bill is wholly voided (the waiter's or the kitchen's 退菜, the cashier's) or wholly refunded
(by hand, or automatically after a void), and when a bill closes empty; a partial refund keeps
them; a bill that only shrinks gives back the points it no longer takes off. Points earned on
the payments are taken back on each path. A void and a refund racing give back once."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from orders import services as order_services
from orders.models import OrderLine, TabAdjustment
from orders.settlement import build_settlement
from payments import services
from payments.coupons import services as coupons
from payments.coupons.models import Coupon, CouponEvent
from payments.ledger import chain_problems
from payments.members import services as members
from payments.members.models import Member, Move
from payments.models import LedgerEntry, Payment, Refund
from restaurant.lib.errors import Refused

from .conftest import seat
from .test_payment_races import at_once

pytestmark = pytest.mark.django_db

START = 5000  # the member's points before the bill


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"  # the statement's words, as the tests read them


@pytest.fixture
def member(db, manager):
    member = members.member_create(mobile="13800138000", name="王芳", pin="123456")
    members.member_adjust(member_id=member.pk, points=START, reason="活动", user=manager)
    return member


@pytest.fixture
def code(member):
    coupon = Coupon.objects.create(name="满40减10", type="threshold", off=Decimal("10"), minimum=40)
    return coupons.coupon_issue(coupon=coupon, member_id=member.pk)


def on_the_bill(tab, member):
    members.tab_member_identify(
        tab_id=tab.pk, auth=members.MemberAuth(login=member.number, pin="123456")
    )


@pytest.fixture
def bill(table, menu, member, code, cashier):
    """拍黄瓜 12 + 宫保鸡丁 38 = 50, the member on it, 满40减10 (40), 1000 points = ¥10: 30."""
    tab = seat(table, menu)
    on_the_bill(tab, member)
    coupons.coupon_redeem(code=code.code, tab_id=tab.pk, user=cashier)
    spend = members.points_redeem(tab_id=tab.pk, points=1000, user=cashier)
    assert build_settlement(tab.pk)["total"] == "30.00"
    tab.spend = spend
    return tab


def pay_cash(tab, amount, user, key="cash"):
    tab.refresh_from_db()
    return services.payment_start(
        tab_id=tab.pk, method="cash", amount=Decimal(amount), version=tab.version, key=key,
        user=user,
    )[0]  # fmt: skip


def void_all(tab, user, reason="客人走了"):
    for line in OrderLine.objects.filter(order__tab=tab).exclude(status="voided"):
        order_services.line_void(line_id=line.pk, reason=reason, user=user)


def points(member):
    member.refresh_from_db()
    return member.points


def returns_of(spend):
    return list(Move.objects.filter(returns=spend).values_list("points", flat=True))


def given_back(code):
    return CouponEvent.objects.filter(code=code, kind="given_back").count()


def owed_equals_balances():
    owed = LedgerEntry.objects.filter(account=LedgerEntry.Account.MEMBER).aggregate(
        s=Sum("amount")
    )["s"] or Decimal(0)
    figures = Member.objects.aggregate(p=Sum("principal"), b=Sum("bonus"))
    return owed == (figures["p"] or 0) + (figures["b"] or 0)


def assert_given_back(tab, member, code, *, reason_words):
    """The points came back once (one return naming the spend), the coupon is usable again
    and both are on the member's statement."""
    assert points(member) == START
    assert returns_of(tab.spend) == [1000]
    code.refresh_from_db()
    assert (code.status, code.tab_id) == ("issued", None)
    assert given_back(code) == 1
    statement = member.moves.order_by("created_at", "id")
    returned = statement.get(kind="points_return")
    assert returned.tab_id == tab.pk and reason_words in returned.reason_text
    used, back = statement.get(kind="coupon"), statement.get(kind="coupon_back")
    assert used.reason_text == f"满40减10 {code.code} · used"
    assert back.reason_text.startswith(f"满40减10 {code.code} · the bill was")
    assert back.tab_id == used.tab_id == tab.pk
    # Heard again (another signal, the worker, a second tap): nothing more comes back.
    assert members.points_give_back(tab_id=tab.pk) == 0
    assert coupons.coupons_give_back(tab_id=tab.pk) == []
    assert points(member) == START and given_back(code) == 1


def test_a_bill_voided_whole_by_the_kitchen_gives_the_points_and_the_coupon_back(
    bill, member, code, cook, commits
):
    with commits():
        void_all(bill, cook)
    assert_given_back(bill, member, code, reason_words="voided")
    assert not TabAdjustment.objects.filter(tab=bill).exists()
    assert build_settlement(bill.pk)["total"] == "0.00"


def test_a_paid_bill_voided_whole_is_refunded_and_gives_back_points_spent_and_earned(
    bill, member, code, cashier, manager, commits
):
    with commits():
        pay_cash(bill, "30", cashier)
    assert points(member) == START - 1000 + 30  # 30 earned on the cash
    with commits():
        void_all(bill, manager)  # an automatic refund of what is now overpaid
    refund = Refund.objects.get()
    assert (refund.amount, refund.automatic, refund.status) == (30, True, "succeeded")
    assert list(member.moves.filter(kind="points_reverse").values_list("points", flat=True)) == [
        -30
    ]
    assert_given_back(bill, member, code, reason_words="voided")


def test_a_refund_by_hand_of_the_whole_bill_gives_the_coupon_and_the_points_back(
    bill, member, code, cashier, commits
):
    with commits():
        payment = pay_cash(bill, "30", cashier)
    with commits():
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("30"), reason="客人投诉", user=cashier
        )
    assert_given_back(bill, member, code, reason_words="refunded")
    # Like 反结账: the bill is as it was before its price rules; paying again, the cashier
    # uses the coupon and the points again.
    settlement = build_settlement(bill.pk)
    assert [a["kind"] for a in settlement["adjustments"]] == ["member_price"]
    assert (settlement["total"], settlement["balance_due"]) == ("50.00", "50.00")
    coupons.coupon_redeem(code=code.code, tab_id=bill.pk, user=cashier)
    assert build_settlement(bill.pk)["balance_due"] == "40.00"


def test_a_partial_refund_by_hand_keeps_the_coupon_and_the_points_spent(
    bill, member, code, cashier, commits
):
    with commits():
        payment = pay_cash(bill, "30", cashier)
    with commits():
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("29.99"), reason="菜太咸", user=cashier
        )
    code.refresh_from_db()
    assert code.status == "redeemed" and given_back(code) == 0
    assert returns_of(bill.spend) == []
    # Of the 30 points the cash earned, 29.99 of 30 is taken back (rounded): 30.
    assert points(member) == START - 1000
    assert [a["kind"] for a in build_settlement(bill.pk)["adjustments"]] == [
        "member_price",
        "coupon",
        "points",
    ]


def test_an_automatic_refund_of_an_overpaid_bill_keeps_the_coupon_and_the_points(
    bill, member, code, cashier, commits
):
    with commits():
        pay_cash(bill, "30", cashier)
    with commits():
        services.tab_discount(tab_id=bill.pk, amount=Decimal("5"), reason="熟客", user=cashier)
    refund = Refund.objects.get()
    assert (refund.amount, refund.automatic) == (5, True)
    code.refresh_from_db()
    assert code.status == "redeemed" and returns_of(bill.spend) == []
    assert points(member) == START - 1000 + 30 - 5  # only what the refunded 5 earned goes


def test_a_bill_that_shrinks_below_its_points_gives_back_those_that_buy_nothing(
    table, menu, member, cashier, manager, commits
):
    tab = seat(table, menu)  # 50
    on_the_bill(tab, member)
    spend = members.points_redeem(tab_id=tab.pk, points=2500, user=cashier)  # ¥25, half of 50
    with commits():
        pay_cash(tab, "25", cashier)
    chicken = OrderLine.objects.get(order__tab=tab, name="宫保鸡丁")
    with commits():
        order_services.line_void(line_id=chicken.pk, reason="不要了", user=manager)
    # 12 is left: the points buy 12 (1200 points); 1300 come back, the cash is refunded in full
    # and takes back the 25 points it earned.
    assert returns_of(spend) == [1300]
    assert points(member) == START - 1200
    settlement = build_settlement(tab.pk)
    row = next(a for a in settlement["adjustments"] if a["kind"] == "points")
    assert (row["amount"], row["reason"], settlement["total"]) == ("-12.00", "1200 积分", "0.00")
    assert Refund.objects.get().amount == 25
    returned = member.moves.get(kind="points_return")
    assert returned.reason_text == "the bill went down: these points bought nothing"
    # A dish added later does not take the given-back points again.
    with commits():
        order_services.order_submit(
            tab=tab, key="more", lines=[order_services.LineRequest(dish=menu["fish"].pk)]
        )
    settlement = build_settlement(tab.pk)
    row = next(a for a in settlement["adjustments"] if a["kind"] == "points")
    assert (row["amount"], settlement["total"]) == ("-12.00", "88.00")
    assert points(member) == START - 1200


def test_a_bill_closed_empty_gives_them_back_and_keeps_its_lines_as_they_were(
    bill, member, code, manager, commits
):
    void_all(bill, manager)  # its news is lost (no commit callbacks here): the close catches up
    assert points(member) == START - 1000
    with commits():
        order_services.tab_close(tab_id=bill.pk, user=manager)
    assert_given_back(bill, member, code, reason_words="voided")
    # The closed bill is history: orders changes no closed bill.
    assert TabAdjustment.objects.filter(tab=bill).count() == 2


def test_a_balance_payment_refunded_in_full_gives_back_balance_points_and_coupon(
    bill, member, code, cashier, commits
):
    members.top_up_create(
        member_id=member.pk, amount=Decimal("100"), method="cash", key="t", user=cashier
    )
    bill.refresh_from_db()
    with commits():
        payment = services.payment_start(
            tab_id=bill.pk, method="member", amount=Decimal("30"), version=bill.version,
            key="m", user=cashier, member=members.MemberAuth(login=member.number, pin="123456"),
        )[0]  # fmt: skip
    assert points(member) == START - 1000 + 30
    with commits():
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("30"), reason="整单退", user=cashier
        )
    member.refresh_from_db()
    assert member.balance == 100
    assert_given_back(bill, member, code, reason_words="refunded")
    assert owed_equals_balances() and not list(chain_problems(LedgerEntry.objects.order_by("id")))


def test_taking_points_off_after_some_came_back_returns_only_the_rest(
    table, menu, member, cashier, manager, commits
):
    tab = seat(table, menu)
    on_the_bill(tab, member)
    spend = members.points_redeem(tab_id=tab.pk, points=2500, user=cashier)
    chicken = OrderLine.objects.get(order__tab=tab, name="宫保鸡丁")
    with commits():
        order_services.line_void(line_id=chicken.pk, reason="不要了", user=manager)
    assert returns_of(spend) == [1300]
    with commits():
        assert members.points_release(tab_id=tab.pk, move_id=spend.pk, user=cashier)
    assert sorted(returns_of(spend)) == [1200, 1300]
    assert points(member) == START


def test_a_bill_refunded_in_full_then_voided_gives_back_once(
    bill, member, code, cashier, manager, commits
):
    with commits():
        payment = pay_cash(bill, "30", cashier)
    with commits():
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("30"), reason="整单退", user=cashier
        )
    with commits():
        void_all(bill, manager)
    assert_given_back(bill, member, code, reason_words="refunded")
    assert Refund.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_void_and_a_refund_at_once_give_back_once(
    needs_postgres, table, other_table, menu, roles
):
    """The waiter voids the only dish while the cashier refunds the bill by hand: whichever
    wins, the money goes back once, the points once, the coupon once. Two rounds."""
    manager = roles["manager"].user_set.create(username="boss")
    cashier = roles["cashier"].user_set.create(username="till")
    member = members.member_create(mobile="13900139000", pin="123456")
    members.member_adjust(member_id=member.pk, points=START, reason="活动", user=manager)
    coupon = Coupon.objects.create(name="满30减10", type="threshold", off=Decimal("10"), minimum=30)
    for round_, place in enumerate((table, other_table)):
        code = coupons.coupon_issue(coupon=coupon, member_id=member.pk)
        tab = order_services.tab_for_table(table=place)
        order_services.order_submit(
            tab=tab,
            key="one",
            guests=2,
            lines=[order_services.LineRequest(dish=menu["chicken"].pk, options=[menu["mild"].pk])],
        )
        on_the_bill(tab, member)
        coupons.coupon_redeem(code=code.code, tab_id=tab.pk, user=cashier)
        spend = members.points_redeem(tab_id=tab.pk, points=1000, user=cashier)  # 38 − 10 − 10
        payment = pay_cash(tab, "18", cashier, key=f"cash-{round_}")
        assert points(member) == START - 1000 + 18
        line = OrderLine.objects.get(order__tab=tab)

        def race(i, line=line, payment=payment):
            try:
                if i == 0:
                    order_services.line_void(line_id=line.pk, reason="客人走了", user=manager)
                else:
                    services.refund_create(
                        payment_id=payment.pk, amount=Decimal("18"), reason="整单退", user=cashier
                    )
                return "ok"
            except Refused as error:
                return error.code.value

        outcomes = at_once(2, race)
        assert outcomes[0] == "ok" and outcomes[1] in ("ok", "over_refund"), outcomes
        refunds = Refund.objects.filter(payment=payment)
        assert sum(r.amount for r in refunds) == 18
        assert all(r.status == "succeeded" for r in refunds)
        assert Payment.objects.get(pk=payment.pk).refunded == 18
        assert points(member) == START
        assert returns_of(spend) == [1000]
        code.refresh_from_db()
        assert code.status == "issued" and given_back(code) == 1
    assert owed_equals_balances()
    assert not list(chain_problems(LedgerEntry.objects.order_by("id")))


def test_lowering_points_money_off_refuses_bad_input_and_changes_nothing(
    table, menu, member, cashier, manager, commits
):
    tab = seat(table, menu)
    on_the_bill(tab, member)
    spend = members.points_redeem(tab_id=tab.pk, points=1000, user=cashier)
    ref = f"points-{spend.pk}"

    def lower(amount, reason="500 积分", ref=ref):
        return order_services.tab_adjustment_lower(
            tab_id=tab.pk, kind="points", ref=ref, amount=amount, reason=reason
        )

    for amount in (Decimal("0"), Decimal("-1"), Decimal("1.234"), 5):
        with pytest.raises(Refused) as refused:
            lower(amount)
        assert refused.value.code.value == "bad_adjustment"
    with pytest.raises(Refused):
        lower(Decimal("5"), reason=" ")
    assert lower(Decimal("10")) is False  # not below what it is
    assert lower(Decimal("5"), ref="points-0") is False  # not on the bill
    assert TabAdjustment.objects.get(tab=tab).amount == 10
    assert lower(Decimal("5")) is True
    assert build_settlement(tab.pk)["total"] == "45.00"
    with commits():
        void_all(tab, manager)
        order_services.tab_close(tab_id=tab.pk, user=manager)
    with pytest.raises(Refused) as refused:
        lower(Decimal("1"))
    assert refused.value.code.value == "tab_closed"
