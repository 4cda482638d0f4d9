"""Members under races on PostgreSQL (threads, each its own connection, released together), and
the books after a randomised day: money owed to members in the ledger equals the sum of all
balances, and payments − refunds equal the settled bills."""

import random
from decimal import Decimal

import pytest
from django.db.models import Sum

from orders import services as order_services
from orders.models import OrderLine
from orders.settlement import build_settlement
from payments import services
from payments.ledger import chain_problems
from payments.members import services as members
from payments.members.models import BonusRule, Member, MemberCode, Move
from payments.models import LedgerEntry, Payment, Refund
from restaurant.lib.errors import Refused

from .conftest import seat
from .test_payment_races import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def owed() -> Decimal:
    entries = LedgerEntry.objects.filter(account=LedgerEntry.Account.MEMBER)
    return entries.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def balances() -> Decimal:
    figures = Member.objects.aggregate(p=Sum("principal"), b=Sum("bonus"))
    return (figures["p"] or Decimal(0)) + (figures["b"] or Decimal(0))


def outcome(work):
    try:
        work()
        return "ok"
    except Refused as error:
        return error.code.value


def make_member(mobile="13800138000", balance="60"):
    member = members.member_create(mobile=mobile, pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal(balance), method="cash", key="t")
    return member


def test_two_tills_spending_one_balance_on_two_bills_never_overdraw(
    needs_postgres, table, other_table, menu
):
    member = make_member(balance="60")
    tabs = [seat(table, menu), seat(other_table, menu, key="second")]  # each owes 50

    def pay(i):
        tab = tabs[i]
        return outcome(
            lambda: services.payment_start(
                tab_id=tab.pk, method="member", amount=Decimal("50"), version=tab.version, key=f"m{i}",
                member=members.MemberAuth(login="13800138000", pin="123456"),
            )
        )  # fmt: skip

    assert sorted(at_once(2, pay)) == ["not_enough_balance", "ok"]
    member.refresh_from_db()
    assert member.balance == 10 and Payment.objects.count() == 1
    assert owed() == balances() == 10


def test_one_member_code_scanned_at_two_tills_at_once_pays_once(
    needs_postgres, table, other_table, menu
):
    member = make_member(balance="200")
    tabs = [seat(table, menu), seat(other_table, menu, key="second")]
    code, _ = members.member_code(member)

    def pay(i):
        tab = tabs[i]
        return outcome(
            lambda: services.payment_start(
                tab_id=tab.pk, method="member", amount=Decimal("50"), version=tab.version, key=f"m{i}",
                member=members.MemberAuth(code=code),
            )
        )  # fmt: skip

    assert sorted(at_once(2, pay)) == ["member_code_used", "ok"]
    member.refresh_from_db()
    assert member.balance == 150 and MemberCode.objects.count() == 1


def test_a_freeze_racing_many_spends_lets_none_through_after_it(
    needs_postgres, table, other_table, menu, cashier
):
    member = make_member(balance="500")
    tabs = [seat(table, menu), seat(other_table, menu, key="second")]

    def work(i):
        if i == 0:
            return outcome(
                lambda: members.member_freeze(
                    member_id=member.pk, frozen=True, reason="卡丢了", user=cashier
                )
            )
        tab = tabs[i - 1]
        return outcome(
            lambda: services.payment_start(
                tab_id=tab.pk, method="member", amount=Decimal("50"), version=tab.version, key=f"m{i}",
                member=members.MemberAuth(login="13800138000", pin="123456"),
            )
        )  # fmt: skip

    results = at_once(3, work)
    assert results[0] == "ok"
    member.refresh_from_db()
    spent = Move.objects.filter(member=member, kind="spend")
    frozen_at = Move.objects.get(member=member, kind="frozen").pk
    assert all(move.pk < frozen_at for move in spent)  # nothing spent after the freeze
    assert member.balance == 500 - 50 * spent.count() and owed() == balances()


def test_points_spent_by_two_tills_at_once_never_go_below_zero(
    needs_postgres, table, other_table, menu, manager
):
    member = make_member(balance="10")
    members.member_adjust(member_id=member.pk, points=1500, reason="活动", user=manager)
    tabs = [seat(table, menu), seat(other_table, menu, key="second")]
    for tab in tabs:
        members.tab_member_identify(
            tab_id=tab.pk, auth=members.MemberAuth(login="13800138000", pin="123456")
        )

    def redeem(i):
        return outcome(lambda: members.points_redeem(tab_id=tabs[i].pk, points=1000))

    assert sorted(at_once(2, redeem)) == ["not_enough_points", "ok"]
    member.refresh_from_db()
    assert member.points == 500


def test_wrong_pins_at_once_lock_after_five_and_never_let_a_sixth_try_through(needs_postgres, db):
    member = make_member()

    def guess(i):
        return outcome(lambda: members.member_pin_check(member_id=member.pk, pin=f"{i:06d}"))

    results = at_once(8, guess)
    assert results.count("wrong_pin") == 4 and results.count("pin_locked") == 4
    assert outcome(lambda: members.member_pin_check(member_id=member.pk, pin="123456")) == (
        "pin_locked"
    )


def test_top_ups_racing_spends_keep_the_books_equal_to_the_balances(
    needs_postgres, table, other_table, menu
):
    member = make_member(balance="50")
    tabs = [seat(table, menu), seat(other_table, menu, key="second")]

    def work(i):
        if i < 2:
            tab = tabs[i]
            return outcome(
                lambda: services.payment_start(
                    tab_id=tab.pk, method="member", amount=Decimal("50"), version=tab.version,
                    key=f"m{i}", member=members.MemberAuth(login=member.number, pin="123456"),
                )
            )  # fmt: skip
        return outcome(
            lambda: members.top_up_create(
                member_id=member.pk, amount=Decimal("30"), method="cash", key=f"top-{i}"
            )
        )

    at_once(6, work)
    member.refresh_from_db()
    assert member.principal >= 0 and member.bonus >= 0
    assert owed() == balances() == member.balance
    assert not list(chain_problems(LedgerEntry.objects.order_by("id")))


@pytest.mark.django_db
def test_a_randomised_day_keeps_owed_equal_to_balances_and_the_bills_balanced(
    table, menu, cashier, manager, django_capture_on_commit_callbacks
):
    """Top-ups (with bonus), bills paid by balance, cash and card, mixed, voids and refunds by
    hand, top-up refunds, adjustments: after each step the books hold."""
    BonusRule.objects.create(threshold=Decimal("100"), bonus=Decimal("10"))
    BonusRule.objects.create(threshold=Decimal("300"), bonus=Decimal("50"))
    chance = random.Random(9)
    people = [members.member_create(mobile=f"1390000000{i}", pin="123456") for i in range(4)]
    keys = iter(range(10_000))
    tops = []

    def check():
        assert owed() == balances()
        for member in Member.objects.all():
            assert member.principal >= 0 and member.bonus >= 0 and member.points >= 0

    for _round in range(12):
        who = chance.choice(people)
        with django_capture_on_commit_callbacks(execute=True):
            top, _created = members.top_up_create(
                member_id=who.pk, amount=Decimal(chance.choice(["50", "100", "300", "20.50"])),
                method=chance.choice(["cash", "card"]), key=f"t{next(keys)}",
                terminal_ref="T",
            )  # fmt: skip
        tops.append(top)
        check()
        tab = seat(table, menu, key=f"o{next(keys)}")
        payer = Member.objects.get(pk=chance.choice(people).pk)
        due = Decimal(build_settlement(tab.pk)["balance_due"])
        part = min(payer.balance, chance.choice([due, Decimal("20"), Decimal("12.34")]))
        with django_capture_on_commit_callbacks(execute=True):
            if part > 0:
                tab.refresh_from_db()
                services.payment_start(
                    tab_id=tab.pk, method="member", amount=str(part), version=tab.version,
                    key=f"m{next(keys)}", member=members.MemberAuth(login=payer.number, pin="123456"),
                )  # fmt: skip
            tab.refresh_from_db()
            rest = Decimal(build_settlement(tab.pk)["balance_due"])
            if rest > 0:
                services.payment_start(
                    tab_id=tab.pk, method="cash", amount=str(rest), version=tab.version,
                    key=f"c{next(keys)}", user=cashier,
                )  # fmt: skip
        check()
        roll = chance.random()
        with django_capture_on_commit_callbacks(execute=True):
            if roll < 0.3:
                line = OrderLine.objects.filter(order__tab=tab).first()
                order_services.line_void(line_id=line.pk, reason="退菜", user=manager)
            elif roll < 0.5:
                services.tab_discount(tab_id=tab.pk, amount="5.55", reason="老客", user=manager)
            elif roll < 0.7:
                paid = Payment.objects.filter(tab=tab, status="succeeded").order_by("?").first()
                given = min(paid.amount - paid.refunded, Decimal("3.21"))
                services.refund_create(
                    payment_id=paid.pk, amount=str(given), reason="补偿", user=manager
                )
                tab.refresh_from_db()  # the bill is owed again: taken in cash
                services.payment_start(
                    tab_id=tab.pk, method="cash", amount=str(given), version=tab.version,
                    key=f"c{next(keys)}", user=cashier,
                )  # fmt: skip
        check()
        if chance.random() < 0.3:
            top = chance.choice(tops)
            holder = Member.objects.get(pk=top.member_id)
            left = min(top.amount - top.refunded, holder.principal)
            if left > 0:
                members.top_up_refund(top_up_id=top.pk, amount=left, reason="退卡", user=manager)
                top.refresh_from_db()
        if chance.random() < 0.2:
            members.member_adjust(
                member_id=who.pk, balance=Decimal("3"), points=7, reason="补偿", user=manager
            )
        check()
        tab.refresh_from_db()
        settlement = build_settlement(tab.pk)
        paid_in = sum(
            (p.amount - p.refunded for p in Payment.objects.filter(tab=tab, status="succeeded")),
            Decimal(0),
        )
        assert paid_in == Decimal(settlement["total"])  # payments − refunds = the bill
        services.tab_close(tab_id=tab.pk, user=cashier)
    assert not Refund.objects.filter(status="pending").exists()
    assert not list(chain_problems(LedgerEntry.objects.order_by("id")))
    assert owed() == balances() > 0
    kinds = set(Move.objects.values_list("kind", flat=True))
    assert {"top_up", "spend", "refund", "points_earn", "top_up_refund", "adjust"} <= kinds
