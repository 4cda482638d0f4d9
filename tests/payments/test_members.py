"""Members: joining, the PIN and its lock, the member code, top-ups with bonus, paying by balance
(alone and mixed), refunds back to the balance, points, adjustments, freezing and erasure; every
bad input refused and changing nothing; the ledger's `member` account always equal to the
balances."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from orders import services as order_services
from orders.models import OrderLine
from orders.settlement import build_settlement
from payments import services
from payments.ledger import chain_problems
from payments.members import services as members
from payments.members.forms import JoinForm, PointsForm, TopUpForm
from payments.members.models import BonusRule, Level, Member, MemberCode, Move, TopUp
from payments.models import LedgerEntry, Payment
from restaurant.lib.errors import Code, Refused

from .conftest import seat

pytestmark = pytest.mark.django_db


def owed() -> Decimal:
    entries = LedgerEntry.objects.filter(account=LedgerEntry.Account.MEMBER)
    return entries.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def balances() -> Decimal:
    figures = Member.objects.aggregate(p=Sum("principal"), b=Sum("bonus"))
    return (figures["p"] or Decimal(0)) + (figures["b"] or Decimal(0))


def refused(code, work):
    with pytest.raises(Refused) as caught:
        work()
    assert caught.value.code == code, caught.value
    return caught.value


@pytest.fixture
def rules(db):
    BonusRule.objects.create(threshold=Decimal("200"), bonus=Decimal("30"))
    BonusRule.objects.create(threshold=Decimal("500"), bonus=Decimal("100"))


@pytest.fixture
def member(db, cashier):
    return members.member_create(mobile="13800138000", name="王芳", pin="123456", user=cashier)


def top_up(member, amount, key="t1", user=None, method="cash"):
    return members.top_up_create(
        member_id=member.pk, amount=Decimal(amount), method=method, key=key, user=user
    )[0]


def pay_by_balance(tab, amount, *, key="m1", pin="123456", login="13800138000", user=None):
    tab.refresh_from_db()
    return services.payment_start(
        tab_id=tab.pk, method="member", amount=Decimal(amount), version=tab.version, key=key, user=user,
        member=members.MemberAuth(login=login, pin=pin),
    )[0]  # fmt: skip


def test_a_member_joins_with_a_mobile_at_the_default_level_and_it_is_on_the_statement(member):
    assert member.level.is_default and member.level.name == "普通会员"
    assert len(member.number) == 8 and member.mobile == "13800138000"
    assert member.pin and member.pin != "123456"  # hashed
    assert list(member.moves.values_list("kind", flat=True)) == ["joined"]


def test_a_member_may_join_with_only_a_member_number(db):
    member = members.member_create()
    assert member.mobile is None and member.number and member.name == ""
    assert members.member_create().number != member.number


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"mobile": "1380013800"}, Code.BAD_MOBILE),
        ({"mobile": "23800138000"}, Code.BAD_MOBILE),
        ({"mobile": "13800138000", "pin": "12345"}, Code.BAD_PIN),
        ({"mobile": "13800138000", "pin": "abcdef"}, Code.BAD_PIN),
        ({"mobile": "13800138000", "birthday": "1990-13-01"}, Code.BAD_BIRTHDAY),
        ({"mobile": "13800138000", "name": "名" * 41}, Code.BAD_MEMBER_NAME),
    ],
)
def test_bad_details_are_refused_and_nobody_joins(db, fields, code):
    refused(code, lambda: members.member_create(**JoinForm.parse(fields)))
    assert not Member.objects.exists()


def test_one_mobile_joins_once(member):
    refused(Code.MOBILE_TAKEN, lambda: members.member_create(mobile="13800138000"))
    assert Member.objects.count() == 1


def test_five_wrong_pins_lock_the_pin_for_15_minutes_even_for_the_right_one(member):
    for left in (4, 3, 2, 1):
        error = refused(
            Code.WRONG_PIN, lambda: members.member_pin_check(member_id=member.pk, pin="000000")
        )
        assert error.params["left"] == left
    refused(Code.PIN_LOCKED, lambda: members.member_pin_check(member_id=member.pk, pin="000000"))
    error = refused(
        Code.PIN_LOCKED, lambda: members.member_pin_check(member_id=member.pk, pin="123456")
    )
    assert "15" in error.message
    Member.objects.filter(pk=member.pk).update(
        pin_locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert members.member_pin_check(member_id=member.pk, pin="123456").pk == member.pk


def test_a_right_pin_clears_the_wrong_tries(member):
    refused(Code.WRONG_PIN, lambda: members.member_pin_check(member_id=member.pk, pin="000000"))
    members.member_pin_check(member_id=member.pk, pin="123456")
    assert Member.objects.get(pk=member.pk).pin_failures == 0


def test_a_top_up_of_200_gets_30_and_500_gets_100_kept_apart_and_booked_as_owed(
    member, rules, cashier
):
    first = top_up(member, "200", user=cashier)
    second = top_up(member, "500", key="t2", user=cashier)
    member.refresh_from_db()
    assert (first.bonus, second.bonus) == (Decimal("30"), Decimal("100"))
    assert (member.principal, member.bonus, member.balance) == (700, 130, 830)
    cash = LedgerEntry.objects.filter(account="cash").aggregate(s=Sum("amount"))["s"]
    assert cash == 700 and owed() == balances() == 830
    assert not LedgerEntry.objects.filter(payment__isnull=False).exists()  # not sales
    assert not list(chain_problems(LedgerEntry.objects.order_by("id")))


def test_the_same_top_up_key_again_tops_up_once(member, rules):
    top_up(member, "200")
    again, created = members.top_up_create(
        member_id=member.pk, amount=Decimal("200"), method="cash", key="t1"
    )
    assert not created and TopUp.objects.count() == 1
    member.refresh_from_db()
    assert member.balance == 230


@pytest.mark.parametrize(
    ("amount", "method", "code"),
    [
        ("0", "cash", Code.BAD_AMOUNT),
        ("-5", "cash", Code.BAD_AMOUNT),
        ("1.234", "cash", Code.BAD_AMOUNT),
        ("abc", "cash", Code.BAD_AMOUNT),
        ("100", "bitcoin", Code.BAD_METHOD),
        ("100", "card", Code.REFERENCE_REQUIRED),
    ],
)
def test_bad_top_ups_are_refused_and_change_nothing(member, amount, method, code):
    def cash_or_card():
        form = TopUpForm.parse({"amount": amount, "method": method, "key": "k"})
        del form["auth_code"], form["gateway"]  # WeChat Pay and Alipay's (topups.top_up_start)
        return members.top_up_create(member_id=member.pk, **form)

    refused(code, cash_or_card)
    member.refresh_from_db()
    assert member.balance == 0 and not TopUp.objects.exists() and owed() == 0


def test_paying_a_bill_by_balance_spends_it_as_sales_and_earns_points_on_principal_only(
    member, rules, table, menu, cashier
):
    top_up(member, "200")  # 200 + 30 bonus
    tab = seat(table, menu)  # owes 50
    payment = pay_by_balance(tab, "50", user=cashier)
    assert payment.status == "succeeded" and payment.method == "member"
    assert payment.provider == "member"
    member.refresh_from_db()
    # Proportional: 50 × 200/230 = 43.48 principal, 6.52 bonus; points on the principal only.
    assert (member.principal, member.bonus) == (Decimal("156.52"), Decimal("23.48"))
    assert member.points == 43
    settlement = build_settlement(tab.pk)
    assert settlement["balance_due"] == "0.00" and settlement["status"] == "settled"
    assert settlement["payments"][0]["method"] == "member"
    assert owed() == balances() == Decimal("180.00")
    kinds = list(member.moves.values_list("kind", flat=True))
    assert kinds == ["joined", "top_up", "spend", "points_earn"]


def test_principal_first_spends_principal_before_bonus(member, rules, table, menu, settings):
    settings.MEMBER_SPEND_ORDER = "principal_first"
    top_up(member, "200")
    pay_by_balance(seat(table, menu), "50")
    member.refresh_from_db()
    assert (member.principal, member.bonus, member.points) == (150, 30, 50)


def test_a_member_pays_part_and_cash_pays_the_rest(member, table, menu, cashier):
    top_up(member, "20")
    tab = seat(table, menu)
    pay_by_balance(tab, "20")
    tab.refresh_from_db()
    services.payment_start(
        tab_id=tab.pk,
        method="cash",
        amount=Decimal("30"),
        version=tab.version,
        key="c",
        user=cashier,
    )
    settlement = build_settlement(tab.pk)
    assert settlement["balance_due"] == "0.00"
    assert sorted(p["method"] for p in settlement["payments"]) == ["cash", "member"]
    member.refresh_from_db()
    assert member.balance == 0 and owed() == balances() == 0


def test_no_code_and_no_pin_spends_nothing(member, table, menu):
    top_up(member, "100")
    tab = seat(table, menu)
    for auth in (None, members.MemberAuth(login="13800138000")):
        refused(
            Code.MEMBER_AUTH_REQUIRED,
            lambda auth=auth: services.payment_start(
                tab_id=tab.pk, method="member", amount=Decimal("50"), version=tab.version, key="k",
                member=auth,
            ),
        )  # fmt: skip
    assert not Payment.objects.exists()


def test_a_wrong_pin_spends_nothing_and_is_counted(member, table, menu):
    top_up(member, "100")
    tab = seat(table, menu)
    refused(Code.WRONG_PIN, lambda: pay_by_balance(tab, "50", pin="654321"))
    assert not Payment.objects.exists()
    member.refresh_from_db()
    assert member.balance == 100 and member.pin_failures == 1


def test_a_short_balance_is_refused_and_changes_nothing(member, table, menu):
    top_up(member, "30")
    tab = seat(table, menu)
    error = refused(Code.NOT_ENOUGH_BALANCE, lambda: pay_by_balance(tab, "50"))
    assert "¥30" in error.message
    member.refresh_from_db()
    assert member.balance == 30 and not Payment.objects.exists() and owed() == 30


def test_a_frozen_card_spends_nothing_until_unfrozen(member, table, menu, cashier):
    top_up(member, "100")
    members.member_freeze(member_id=member.pk, frozen=True, reason="卡丢了", user=cashier)
    tab = seat(table, menu)
    refused(Code.MEMBER_FROZEN, lambda: pay_by_balance(tab, "50"))
    refused(Code.MEMBER_FROZEN, lambda: top_up(member, "10", key="t2"))
    members.member_freeze(member_id=member.pk, frozen=False, reason="找到了", user=cashier)
    assert pay_by_balance(tab, "50").status == "succeeded"
    kinds = list(member.moves.values_list("kind", flat=True))
    assert kinds == ["joined", "top_up", "frozen", "unfrozen", "spend", "points_earn"]


def test_the_member_code_pays_once_and_runs_out(member, table, menu):
    top_up(member, "100")
    tab = seat(table, menu)
    code, expires = members.member_code(member)
    assert code.startswith("97") and len(code) == 20 and expires > timezone.now()

    def pay(key, code=code):
        tab.refresh_from_db()
        return services.payment_start(
            tab_id=tab.pk, method="member", amount=Decimal("10"), version=tab.version, key=key,
            member=members.MemberAuth(code=code),
        )[0]  # fmt: skip

    assert pay("a").status == "succeeded"
    refused(Code.MEMBER_CODE_USED, lambda: pay("b"))
    assert Payment.objects.count() == 1 and MemberCode.objects.count() == 1
    old, _ = members.member_code(member, timezone.now() - timedelta(seconds=150))
    refused(Code.BAD_MEMBER_CODE, lambda: pay("c", old))
    forged = code[:-1] + str((int(code[-1]) + 1) % 10)
    refused(Code.BAD_MEMBER_CODE, lambda: pay("d", forged))
    refused(Code.BAD_MEMBER_CODE, lambda: pay("e", "97abc"))


def test_a_refused_spend_leaves_the_code_unused(member, table, menu):
    top_up(member, "10")
    tab = seat(table, menu)
    code, _ = members.member_code(member)
    refused(
        Code.NOT_ENOUGH_BALANCE,
        lambda: services.payment_start(
            tab_id=tab.pk, method="member", amount=Decimal("50"), version=tab.version, key="k",
            member=members.MemberAuth(code=code),
        ),
    )  # fmt: skip
    assert not MemberCode.objects.exists()


def test_a_void_on_a_bill_paid_by_balance_gives_the_balance_back_and_takes_points_back(
    member, table, menu, cashier, commits, manager
):
    top_up(member, "100")
    tab = seat(table, menu)
    pay_by_balance(tab, "50")
    member.refresh_from_db()
    assert (member.balance, member.points) == (50, 50)
    line_id = OrderLine.objects.get(order__tab=tab, name="拍黄瓜").pk
    with commits():
        order_services.line_void(line_id=line_id, reason="客人不要了", user=manager)
    member.refresh_from_db()
    assert (member.balance, member.points) == (62, 38)
    assert owed() == balances() == 62
    payment = Payment.objects.get()
    assert payment.refunded == 12
    assert build_settlement(tab.pk)["refunded"] == "12.00"
    kinds = list(member.moves.values_list("kind", flat=True))
    assert kinds[-2:] == ["refund", "points_reverse"]


def test_a_refund_by_hand_of_a_balance_payment_returns_principal_and_bonus_in_their_share(
    member, rules, table, menu, cashier, commits
):
    top_up(member, "200")  # 200 + 30
    tab = seat(table, menu)
    payment = pay_by_balance(tab, "46")  # 40.00 principal, 6.00 bonus
    with commits():
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("23"), reason="菜太咸", user=cashier
        )
    member.refresh_from_db()
    assert (member.principal, member.bonus) == (Decimal("180.00"), Decimal("27.00"))
    assert owed() == balances() == Decimal("207.00")


def test_a_top_up_refund_returns_principal_only_and_takes_its_bonus(member, rules, cashier):
    made = top_up(member, "200", user=cashier)
    members.top_up_refund(top_up_id=made.pk, amount=Decimal("100"), reason="不想用了", user=cashier)
    member.refresh_from_db()
    assert (member.principal, member.bonus) == (100, 15)
    cash = LedgerEntry.objects.filter(account="cash").aggregate(s=Sum("amount"))["s"]
    assert cash == 100 and owed() == balances() == 115
    error = refused(
        Code.OVER_TOP_UP_REFUND,
        lambda: members.top_up_refund(
            top_up_id=made.pk, amount=Decimal("100.01"), reason="x", user=cashier
        ),
    )
    assert "¥100" in error.message
    refused(
        Code.REASON_REQUIRED,
        lambda: members.top_up_refund(
            top_up_id=made.pk, amount=Decimal("1"), reason=" ", user=cashier
        ),
    )


def test_only_a_manager_adjusts_with_a_reason_and_never_below_zero(member, cashier, manager):
    refused(
        Code.MANAGER_ONLY,
        lambda: members.member_adjust(
            member_id=member.pk, balance=Decimal("10"), reason="补偿", user=cashier
        ),
    )
    refused(
        Code.REASON_REQUIRED,
        lambda: members.member_adjust(
            member_id=member.pk, balance=Decimal("10"), reason="", user=manager
        ),
    )
    refused(
        Code.NOT_ENOUGH_BALANCE,
        lambda: members.member_adjust(
            member_id=member.pk, balance=Decimal("-1"), reason="x", user=manager
        ),
    )
    refused(
        Code.NOT_ENOUGH_POINTS,
        lambda: members.member_adjust(member_id=member.pk, points=-1, reason="x", user=manager),
    )
    refused(
        Code.NOTHING_TO_ADJUST,
        lambda: members.member_adjust(member_id=member.pk, reason="x", user=manager),
    )
    members.member_adjust(
        member_id=member.pk, balance=Decimal("10"), points=5, reason="补偿", user=manager
    )
    member.refresh_from_db()
    assert (member.bonus, member.points) == (10, 5) and owed() == balances() == 10
    move = member.moves.last()
    assert (move.kind, move.user, move.reason) == ("adjust", manager, "补偿")


def test_erasing_a_member_keeps_the_money_and_the_books(member, table, menu, cashier):
    top_up(member, "100")
    pay_by_balance(seat(table, menu), "50")
    members.member_erase(member_id=member.pk, reason="本人要求删除", user=cashier)
    member.refresh_from_db()
    assert member.status == "erased" and member.mobile is None and member.name == ""
    assert member.pin == "" and member.birthday is None
    assert member.balance == 50 and owed() == balances() == 50
    assert Move.objects.filter(member=member, kind="spend").exists()
    assert members.member_find_one("13800138000") is None


def test_points_left_from_last_year_expire_once(member, manager):
    members.member_adjust(member_id=member.pk, points=80, reason="活动", user=manager)
    Move.objects.filter(member=member).update(created_at=timezone.now() - timedelta(days=400))
    assert members.points_expire() == 1
    assert members.points_expire() == 0
    member.refresh_from_db()
    assert member.points == 0
    assert member.moves.last().kind == "points_expire"


def test_levels_come_with_the_migration():
    assert list(Level.objects.values_list("name", flat=True)) == [
        "普通会员",
        "银卡会员",
        "金卡会员",
    ]


def test_a_gold_member_earns_points_at_the_gold_rate(member, table, menu):
    Member.objects.filter(pk=member.pk).update(level=Level.objects.get(name="金卡会员"))
    top_up(member, "100")
    pay_by_balance(seat(table, menu), "50")
    member.refresh_from_db()
    assert member.points == 100


def test_an_unknown_member_is_refused(db, table, menu):
    tab = seat(table, menu)
    refused(Code.UNKNOWN_MEMBER, lambda: pay_by_balance(tab, "50", login="13900000000"))


def test_a_member_on_the_bill_gets_the_level_discount_and_earns_points_on_cash(
    member, table, menu, cashier
):
    Member.objects.filter(pk=member.pk).update(level=Level.objects.get(name="金卡会员"))
    tab = seat(table, menu)  # 50 at list prices
    members.tab_member_identify(
        tab_id=tab.pk, auth=members.MemberAuth(login="13800138000", pin="123456"), user=cashier
    )
    settlement = build_settlement(tab.pk)
    assert settlement["member"]["ref"] == member.number
    assert "金卡会员" in settlement["member"]["label"]
    assert "13800138000" not in str(settlement)  # the bill says nothing of the person
    assert settlement["total"] == "45.00"  # 九折
    tab.refresh_from_db()
    services.payment_start(
        tab_id=tab.pk,
        method="cash",
        amount=Decimal("50"),
        version=tab.version,
        key="c",
        user=cashier,
    )
    member.refresh_from_db()
    assert member.points == 90  # 45 paid × 2 (gold)
    assert member.moves.last().kind == "points_earn"


def test_identifying_on_a_bill_needs_the_code_or_the_pin(member, table, menu):
    tab = seat(table, menu)
    refused(
        Code.MEMBER_AUTH_REQUIRED,
        lambda: members.tab_member_identify(
            tab_id=tab.pk, auth=members.MemberAuth(login="13800138000")
        ),
    )
    code, _ = members.member_code(member)
    members.tab_member_identify(tab_id=tab.pk, auth=members.MemberAuth(code=code))
    assert build_settlement(tab.pk)["member"]["ref"] == member.number
    members.tab_member_leave(tab_id=tab.pk)
    assert build_settlement(tab.pk)["member"] is None


def test_a_refund_of_a_cash_payment_takes_back_the_points_it_earned(
    member, table, menu, cashier, commits
):
    tab = seat(table, menu)
    members.tab_member_identify(
        tab_id=tab.pk, auth=members.MemberAuth(login=member.number, pin="123456")
    )
    tab.refresh_from_db()
    payment = services.payment_start(
        tab_id=tab.pk, method="card", amount=Decimal("50"), version=tab.version, key="c", user=cashier,
        terminal_ref="T1",
    )[0]  # fmt: skip
    with commits():
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("20"), reason="太咸", user=cashier
        )
    member.refresh_from_db()
    assert member.points == 30


def test_points_are_money_off_up_to_half_the_bill_and_come_back_when_taken_off(
    member, table, menu, manager, cashier
):
    members.member_adjust(member_id=member.pk, points=5000, reason="活动", user=manager)
    tab = seat(table, menu)  # 50
    members.tab_member_identify(
        tab_id=tab.pk, auth=members.MemberAuth(login="13800138000", pin="123456")
    )
    error = refused(Code.TOO_MANY_POINTS, lambda: members.points_redeem(tab_id=tab.pk, points=2600))
    assert "¥25" in error.message
    refused(Code.BAD_POINTS, lambda: members.points_redeem(tab_id=tab.pk, points=-5))
    refused(Code.BAD_POINTS, lambda: PointsForm.parse({"points": "1.5"}))
    refused(Code.BAD_POINTS, lambda: PointsForm.parse({"points": "0"}))
    move = members.points_redeem(tab_id=tab.pk, points=1000, user=cashier)
    settlement = build_settlement(tab.pk)
    assert settlement["total"] == "40.00"
    points = [a for a in settlement["adjustments"] if a["kind"] == "points"]
    assert [a["amount"] for a in points] == ["-10.00"]
    member.refresh_from_db()
    assert member.points == 4000
    assert members.points_release(tab_id=tab.pk, move_id=move.pk, user=cashier)
    assert not members.points_release(tab_id=tab.pk, move_id=move.pk, user=cashier)
    member.refresh_from_db()
    assert member.points == 5000
    assert build_settlement(tab.pk)["total"] == "50.00"
    refused(Code.NOT_ENOUGH_POINTS, lambda: members.points_redeem(tab_id=tab.pk, points=5001))


def test_points_need_a_member_on_the_bill(member, table, menu):
    tab = seat(table, menu)
    refused(Code.UNKNOWN_MEMBER, lambda: members.points_redeem(tab_id=tab.pk, points=100))


def test_the_worker_expires_points_only_when_the_setting_is_on(member, manager, settings):
    from restaurant.management.commands import worker

    members.member_adjust(member_id=member.pk, points=80, reason="活动", user=manager)
    Move.objects.filter(member=member).update(created_at=timezone.now() - timedelta(days=400))
    members.member_adjust(member_id=member.pk, points=5, reason="今年", user=manager)
    settings.POINTS_EXPIRE_AT_YEAR_END = False
    worker.run_jobs()
    member.refresh_from_db()
    assert member.points == 85
    settings.POINTS_EXPIRE_AT_YEAR_END = True
    worker.run_jobs()
    worker.run_jobs()
    member.refresh_from_db()
    assert member.points == 5  # this year's stay
    assert member.moves.filter(kind="points_expire").count() == 1
