"""What a member card can hold: less than ¥10,000,000,000 of principal and of bonus, and at most
2,147,483,647 points (its columns). A top-up or an adjustment past that was a database error, a
500 at the till with the cashier not told why; now it is refused `card_full` (or, for points no
wallet could hold, `bad_points` at the edge) and nothing changes."""

from decimal import Decimal

import pytest
from django.test import Client

from payments.members import services as members
from payments.members import topups
from payments.members.models import Member, Move, TopUp
from payments.models import LedgerEntry
from restaurant.lib.errors import Refused

pytestmark = pytest.mark.django_db

NEARLY_FULL = Decimal("9999999999.00")


@pytest.fixture
def till(cashier):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cashier)
    return client


@pytest.fixture
def boss(manager):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    return client


@pytest.fixture
def member(db):
    made = members.member_create(mobile="13800138000", name="王芳", pin="123456")
    Member.objects.filter(pk=made.pk).update(principal=NEARLY_FULL)
    return made


def unchanged(member, *, principal=NEARLY_FULL, bonus=Decimal(0), points=0):
    member.refresh_from_db()
    return (member.principal, member.bonus, member.points) == (principal, bonus, points)


def test_a_top_up_the_card_cannot_hold_is_refused_and_changes_nothing(till, member):
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/", {"amount": "1", "method": "cash", "key": "a"}
    )
    assert answer.status_code == 409
    assert "A member card holds less than" in answer.content.decode()
    assert unchanged(member)
    assert not TopUp.objects.exists() and not LedgerEntry.objects.exists()


def test_a_top_up_up_to_the_last_fen_goes_in(till, member):
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/", {"amount": "0.99", "method": "cash", "key": "a"}
    )
    assert answer.status_code == 200
    assert unchanged(member, principal=Decimal("9999999999.99"))


def test_a_qr_top_up_the_card_cannot_hold_is_refused_and_opens_nothing(sim, member):
    with pytest.raises(Refused) as refused:
        topups.top_up_start(member_id=member.pk, amount=Decimal("1"), key="q", gateway="wechatpay")
    assert refused.value.code.value == "card_full"
    assert not TopUp.objects.exists()


@pytest.mark.parametrize("points", [str(2**31), "-" + str(2**31), str(10**30)])
def test_points_no_card_can_hold_are_refused_at_the_edge(boss, member, points):
    answer = boss.post(
        f"/cashier/members/{member.pk}/adjust/", {"points": points, "reason": "x", "key": "p"}
    )
    assert answer.status_code == 400
    assert "Points must be a whole number." in answer.content.decode()
    assert unchanged(member)
    assert not Move.objects.filter(kind=Move.Kind.ADJUST).exists()


def test_an_adjustment_past_what_the_card_holds_is_refused_and_changes_nothing(boss, member):
    most = str(2**31 - 1)
    first = boss.post(
        f"/cashier/members/{member.pk}/adjust/", {"points": most, "reason": "x", "key": "p1"}
    )
    assert first.status_code == 200
    again = boss.post(
        f"/cashier/members/{member.pk}/adjust/", {"points": "1", "reason": "x", "key": "p2"}
    )
    bonus = boss.post(
        f"/cashier/members/{member.pk}/adjust/",
        {"balance": "999999999.99", "reason": "x", "key": "b"},
    )
    Member.objects.filter(pk=member.pk).update(bonus=NEARLY_FULL)
    over = boss.post(
        f"/cashier/members/{member.pk}/adjust/", {"balance": "1", "reason": "x", "key": "b2"}
    )
    assert (again.status_code, bonus.status_code, over.status_code) == (409, 200, 409)
    assert "A member card holds less than" in over.content.decode()
    assert unchanged(member, bonus=NEARLY_FULL, points=2**31 - 1)
    assert Move.objects.filter(kind=Move.Kind.ADJUST).count() == 2
