"""The till's member pages over htmx: an action answers with the regions that changed (figures,
forms with a new key, top-ups, statement, the message), a refusal with the failed form in place
(what was typed kept, why said) and nothing changed; a second tap of the same form (its key)
does nothing twice, even at the same moment; the search swaps only the list. Without script the
same posts answer whole pages."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from payments.members import services as members
from payments.members.models import Member, Move, TopUp
from restaurant.lib.errors import Code

from .test_payment_races import at_once

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "Accept-Language": "en"}


@pytest.fixture
def till(cashier):
    client = Client()
    client.force_login(cashier)
    return client


@pytest.fixture
def boss(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def member(db):
    made = members.member_create(mobile="13800138000", name="王芳", pin="123456")
    members.top_up_create(member_id=made.pk, amount=Decimal("100"), method="cash", key="t")
    return made


def key_of(html, form_id):
    form = re.search(rf'<form id="{form_id}".*?</form>', html, re.S).group(0)
    return re.search(r'name="key" value="(\w+)"', form).group(1)


def test_a_top_up_answers_with_the_changed_regions_and_a_new_key(till, member):
    page = till.get(f"/cashier/members/{member.pk}/").content.decode()
    key = key_of(page, "member-form-top-up")
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "50", "method": "cash", "key": key},
        headers=HTMX,
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html
    for region in ("member-figures", "member-actions", "member-top-ups", "statement", "flash"):
        assert re.search(rf'id="{region}"[^>]*hx-swap-oob="true"', html), region
    assert 'id="member-balance">¥150<' in html and "Topped up ¥50." in html
    assert key_of(html, "member-form-top-up") != key  # the next top-up is a new one
    # The same key again (a second tap): the same top-up, nothing more taken.
    till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "50", "method": "cash", "key": key},
        headers=HTMX,
    )
    member.refresh_from_db()
    assert member.balance == 150 and TopUp.objects.filter(member=member).count() == 2


@pytest.mark.parametrize(
    ("data", "typed"),
    [
        ({"amount": "12.345", "method": "cash"}, 'value="12.345"'),
        ({"amount": "-5", "method": "cash"}, 'value="-5"'),
        ({"amount": "80", "method": "card"}, 'value="card" checked'),  # no terminal reference
    ],
)
def test_a_refused_top_up_shows_why_in_its_form_and_changes_nothing(till, member, data, typed):
    answer = till.post(f"/cashier/members/{member.pk}/top-up/", {**data, "key": "k1"}, headers=HTMX)
    html = answer.content.decode()
    assert answer.status_code == 400
    form = re.search(r'<form id="member-form-top-up".*?</form>', html, re.S).group(0)
    assert 'hx-swap-oob="true"' in form and 'class="error form-error" role="alert"' in form
    assert typed in form and 'name="key" value="k1"' in form
    assert re.search(r'<div id="flash" class="flash" role="status"[^>]*></div>', html)
    assert "member-figures" not in html  # nothing changed, nothing else swapped
    member.refresh_from_db()
    assert member.balance == 100 and TopUp.objects.count() == 1


def test_a_frozen_member_is_refused_a_top_up_in_place(till, member):
    till.post(f"/cashier/members/{member.pk}/freeze/", {"frozen": "1", "reason": "卡丢了"})
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "50", "method": "cash", "key": "k2"},
        headers=HTMX,
    )
    html = answer.content.decode()
    assert answer.status_code == Code.MEMBER_FROZEN.status
    assert "frozen" in re.search(r'class="error form-error"[^>]*>([^<]*)<', html).group(1)
    assert 'value="50"' in html
    member.refresh_from_db()
    assert member.balance == 100 and member.is_frozen


def test_a_refused_refund_shows_in_its_own_row(till, member):
    top_up = TopUp.objects.get(member=member)
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up-refund/",
        {"top_up": top_up.pk, "amount": "500", "reason": "退卡", "key": "r1"},
        headers=HTMX,
    )
    html = answer.content.decode()
    assert answer.status_code == Code.OVER_TOP_UP_REFUND.status
    form = re.search(rf'<form id="member-form-refund-{top_up.pk}".*?</form>', html, re.S).group(0)
    assert "form-error" in form and 'value="500"' in form and 'value="退卡"' in form
    member.refresh_from_db()
    assert member.balance == 100


def test_a_second_tap_of_a_refund_an_adjustment_or_a_join_does_nothing_twice(till, boss, member):
    top_up = TopUp.objects.get(member=member)
    for _tap in range(2):
        answer = till.post(
            f"/cashier/members/{member.pk}/top-up-refund/",
            {"top_up": top_up.pk, "amount": "30", "reason": "退一部分", "key": "refund-1"},
            headers=HTMX,
        )
        assert answer.status_code == 200
        answer = boss.post(
            f"/cashier/members/{member.pk}/adjust/",
            {"balance": "5", "points": "10", "reason": "补偿", "key": "adjust-1"},
            headers=HTMX,
        )
        assert answer.status_code == 200
        answer = till.post(
            "/cashier/members/new/", {"mobile": "13900000001", "key": "join-1"}, headers=HTMX
        )
        assert answer.status_code == 200 and "13900000001" in answer.content.decode()
    member.refresh_from_db()
    assert (member.principal, member.bonus, member.points) == (70, 5, 10)
    assert Move.objects.filter(kind=Move.Kind.TOP_UP_REFUND).count() == 1
    assert Member.objects.filter(mobile="13900000001").count() == 1
    # A key of another request is a mistake, refused, changing nothing.
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up-refund/",
        {"top_up": top_up.pk, "amount": "30", "reason": "x", "key": "adjust-1"},
        headers=HTMX,
    )
    assert answer.status_code == Code.BAD_KEY.status
    member.refresh_from_db()
    assert member.principal == 70


@pytest.mark.django_db(transaction=True)
def test_two_taps_of_one_refund_at_the_same_moment_refund_once(needs_postgres, cashier, member):
    top_up = TopUp.objects.get(member=member)

    def tap(i):
        client = Client()
        client.force_login(cashier)
        data = {"top_up": top_up.pk, "amount": "40", "reason": "退", "key": "same"}
        return client.post(f"/cashier/members/{member.pk}/top-up-refund/", data).status_code

    assert at_once(3, tap) == [200, 200, 200]
    member.refresh_from_db()
    assert member.principal == 60 and TopUp.objects.get(pk=top_up.pk).refunded == 40


def test_a_refused_join_keeps_what_was_typed_and_says_why_in_the_form(till):
    answer = till.post(
        "/cashier/members/new/",
        {"mobile": "139", "name": "李雷", "key": "j"},
        headers=HTMX,
    )
    html = answer.content.decode()
    assert answer.status_code == 400 and "11 digits" in html
    form = re.search(r'<form id="member-new-form".*?</form>', html, re.S).group(0)
    assert 'hx-swap-oob="true"' in form and 'value="李雷"' in form and "form-error" in form
    assert not Member.objects.exists()


def test_the_search_answers_htmx_with_only_the_list(till, member):
    answer = till.get("/cashier/members/?q=0013", headers=HTMX)
    html = answer.content.decode()
    assert html.lstrip().startswith('<table class="members-list" id="members-found"')
    assert member.number in html and "<html" not in html
    whole = till.get(
        "/cashier/members/?q=0013", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in whole.content.decode()


def test_without_script_the_same_posts_answer_whole_pages(till, member):
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "abc", "method": "cash", "key": "n1"},
        headers={"Accept-Language": "en"},
    )
    html = answer.content.decode()
    assert answer.status_code == 400 and "<html" in html and "form-error" in html
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "10", "method": "cash", "key": "n1"},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200 and "Topped up ¥10." in answer.content.decode()
