"""Members' pages: the till's list, joining, statement, top-up, PIN, freeze, adjust, erase and
export; the member's own page behind the PIN with its code; joining from the pay page; paying
by balance from the phone and at the till; a member on the bill at the till."""

import html
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from orders.models import Tab
from orders.settlement import build_settlement
from payments.members import services as members
from payments.members.models import Member, MemberCode, TopUp
from payments.models import Payment
from restaurant.lib.errors import Code, Refused

from .conftest import seat

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "Accept-Language": "en"}
EN = {"Accept-Language": "en"}


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


def test_the_till_finds_members_by_mobile_number_or_name(till, member):
    page = till.get("/cashier/members/?q=0013", headers=EN).content.decode()
    assert member.number in page and "王芳" in page and "¥100" in page
    page = till.get("/cashier/members/?q=nobody", headers=EN).content.decode()
    assert member.number not in page and "No member found." in page


def test_only_staff_open_the_members_pages(client, cook, member):
    assert client.get("/cashier/members/").status_code == 302  # to the login
    client.force_login(cook)
    assert client.get("/cashier/members/").status_code == 403
    assert client.get(f"/cashier/members/{member.pk}/").status_code == 403


def test_a_member_is_made_at_the_till_and_lands_on_their_page(till, cashier):
    answer = till.post("/cashier/members/new/", {"mobile": "13900000001", "pin": "654321"})
    made = Member.objects.get(mobile="13900000001")
    assert answer.status_code == 302 and answer["Location"] == f"/cashier/members/{made.pk}/"
    assert made.created_by == cashier and made.pin
    bad = till.post("/cashier/members/new/", {"mobile": "139"}, headers=EN)
    assert bad.status_code == 400 and "11 digits" in bad.content.decode()


def test_a_top_up_at_the_till_shows_on_the_statement_with_who(till, member, cashier):
    page = till.get(f"/cashier/members/{member.pk}/")
    key = re.search(r'name="key" value="(\w+)"', page.content.decode()).group(1)
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "50", "method": "cash", "key": key},
        headers=EN,
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and "Topped up ¥50." in html
    assert 'id="member-balance">¥150' in html and "cashier" in html
    again = till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "50", "method": "cash", "key": key},
    )
    assert again.status_code == 200 and TopUp.objects.count() == 2  # the same key: once


def test_the_members_own_statement_does_not_name_the_staff(till, member, cashier):
    """Who took a top-up is the restaurant's to know (the till's statement); the member's card
    shows what happened and when, not a staff login."""
    page = till.get(f"/cashier/members/{member.pk}/")
    key = re.search(r'name="key" value="(\w+)"', page.content.decode()).group(1)
    till.post(
        f"/cashier/members/{member.pk}/top-up/", {"amount": "50", "method": "cash", "key": key}
    )
    at_till = till.get(f"/cashier/members/{member.pk}/", headers=EN).content.decode()
    statement = re.search(r'id="statement".*?</table>', at_till, re.S).group(0)
    assert cashier.get_username() in statement and "staff member" in statement
    phone = Client()
    url = f"/m/{member.link_token}/"
    phone.post(url + "unlock/", {"pin": "123456"})
    card = phone.get(url, headers=EN).content.decode()
    statement = re.search(r'id="statement".*?</table>', card, re.S).group(0)
    assert "¥150" in statement and cashier.get_username() not in statement
    assert "staff member" not in statement


def test_refusals_at_the_till_say_why_and_change_nothing(till, member):
    answer = till.post(
        f"/cashier/members/{member.pk}/top-up/",
        {"amount": "-5", "method": "cash", "key": "x"},
        headers=EN,
    )
    assert answer.status_code == 400 and "The amount must be" in answer.content.decode()
    answer = till.post(f"/cashier/members/{member.pk}/adjust/", {"balance": "5", "reason": "x"})
    assert answer.status_code == 403
    member.refresh_from_db()
    assert member.balance == 100 and member.bonus == 0


@pytest.mark.parametrize(
    ("action", "data", "code"),
    [
        ("top-up", {"amount": "1.234", "method": "cash", "key": "k"}, Code.BAD_AMOUNT),
        ("top-up", {"amount": "0", "method": "cash", "key": "k"}, Code.BAD_AMOUNT),
        ("top-up", {"amount": "50", "method": "bitcoin", "key": "k"}, Code.BAD_METHOD),
        ("top-up", {"amount": "50", "method": "cash", "key": " "}, Code.BAD_KEY),
        ("top-up", {"amount": "50", "method": "card", "key": "k"}, Code.REFERENCE_REQUIRED),
        ("top-up-refund", {"top_up": "x", "amount": "1", "reason": "r"}, Code.UNKNOWN_TOP_UP),
        ("top-up-refund", {"top_up": "1", "amount": "abc", "reason": "r"}, Code.BAD_AMOUNT),
        ("adjust", {"balance": "1.5.0", "reason": "r"}, Code.BAD_AMOUNT),
        ("adjust", {"points": "1.5", "reason": "r"}, Code.BAD_POINTS),
        ("adjust", {"points": "-5", "reason": "r"}, Code.NOT_ENOUGH_POINTS),
        ("adjust", {"balance": "5"}, Code.REASON_REQUIRED),
        ("pin", {"pin": "12345"}, Code.BAD_PIN),
        ("pin", {}, Code.BAD_PIN),
        ("freeze", {"frozen": "1"}, Code.REASON_REQUIRED),
    ],
)
def test_a_mistake_posted_at_the_till_is_read_at_the_edge_and_changes_nothing(
    boss, member, action, data, code
):
    before = list(Member.objects.values_list("principal", "bonus", "points", "pin", "status"))
    answer = boss.post(f"/cashier/members/{member.pk}/{action}/", data, headers=EN)
    with translation.override("en"):
        message = Refused(code, points=0, left="").message.split("%")[0]
    assert answer.status_code == code.status
    assert message.split(":")[0] in html.unescape(answer.content.decode())
    after = list(Member.objects.values_list("principal", "bonus", "points", "pin", "status"))
    assert after == before and TopUp.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"mobile": "1380013800", "pin": "123456"}, Code.BAD_MOBILE),
        ({"mobile": "13900000002", "birthday": "1990-13-01", "pin": "123456"}, Code.BAD_BIRTHDAY),
        ({"name": "名" * 41, "pin": "123456"}, Code.BAD_MEMBER_NAME),
        ({"mobile": "13900000002", "pin": "12345x"}, Code.BAD_PIN),
        ({"mobile": "13900000003", "birthday": "9999-12-31"}, Code.BAD_BIRTHDAY),
        ({"mobile": "13900000004", "birthday": "1899-12-31"}, Code.BAD_BIRTHDAY),
    ],
)
def test_a_bad_join_is_refused_at_the_till_and_nobody_joins(till, data, code):
    answer = till.post("/cashier/members/new/", data, headers=EN)
    with translation.override("en"):
        message = Refused(code).message
    assert answer.status_code == code.status
    assert message in html.unescape(answer.content.decode())
    assert not Member.objects.exists()


def test_points_that_are_not_a_whole_number_are_refused_at_the_cashier(till, table, menu):
    tab = seat(table, menu)
    total = build_settlement(tab.pk)["total"]
    for points in ("1.5", "0", "abc", ""):
        answer = till.post(f"/cashier/tabs/{tab.pk}/points/", {"points": points}, headers=HTMX)
        assert answer.status_code == 400 and "bad_points" not in answer.content.decode()
    with translation.override("en"):
        message = Refused(Code.BAD_POINTS).message
    assert message in html.unescape(answer.content.decode())
    assert build_settlement(tab.pk)["total"] == total


def test_the_manager_adjusts_and_exports_and_a_cashier_cannot_export(till, boss, member):
    answer = boss.post(
        f"/cashier/members/{member.pk}/adjust/",
        {"balance": "5", "points": "10", "reason": "补偿"},
    )
    assert answer.status_code == 200
    member.refresh_from_db()
    assert (member.bonus, member.points) == (5, 10)
    assert till.get("/cashier/members/export.csv").status_code == 403
    csv = boss.get("/cashier/members/export.csv")
    text = csv.content.decode("utf-8-sig")
    assert csv["Content-Type"].startswith("text/csv")
    assert "13800138000" in text and "王芳" in text and "105.00" not in text.split("\n")[0]
    assert member.pin not in text and member.link_token not in text


def test_freeze_and_erase_at_the_till(till, member):
    till.post(f"/cashier/members/{member.pk}/freeze/", {"frozen": "1", "reason": "卡丢了"})
    member.refresh_from_db()
    assert member.status == "frozen"
    till.post(f"/cashier/members/{member.pk}/erase/", {"reason": "本人要求"})
    member.refresh_from_db()
    assert member.status == "erased" and member.mobile is None and member.balance == 100


def test_the_member_page_opens_with_the_pin_and_shows_a_code_that_a_get_does_not_use(member):
    phone = Client()
    url = f"/m/{member.link_token}/"
    page = phone.get(url, headers=EN).content.decode()
    assert "Your PIN" in page and member.number not in page and "¥100" not in page
    wrong = phone.post(url + "unlock/", {"pin": "000000"}, headers=EN)
    assert wrong.status_code == 403 and "Wrong PIN" in wrong.content.decode()
    assert phone.post(url + "unlock/", {"pin": "123456"}).status_code == 302
    page = phone.get(url, headers=EN).content.decode()
    code = re.search(r'id="code-digits">(\d{20})<', page).group(1)
    assert code == members.member_code(member)[0] and "<svg" in page and "¥100" in page
    part = phone.get(url + "code/").content.decode()
    assert code in part and 'id="member-code"' in part
    assert not MemberCode.objects.exists()  # shown, not used
    phone.post(url + "lock/")
    assert "Your PIN" in phone.get(url, headers=EN).content.decode()
    assert Client().get("/m/not-a-link/").status_code == 404


def test_the_join_link_is_on_the_pay_page_only_once_something_is_ordered(client, table, menu):
    assert "/member/" not in client.get(f"/t/{table.token}/pay/").content.decode()
    seat(table, menu)
    assert f"/t/{table.token}/member/" in client.get(f"/t/{table.token}/pay/").content.decode()


def test_a_diner_joins_from_the_phone_goes_on_the_bill_and_sees_their_card(client, table, menu):
    tab = seat(table, menu)
    refused = client.post(f"/t/{table.token}/member/", {"mobile": "13700000000"}, headers=EN)
    assert refused.status_code == 400 and not Member.objects.exists()  # a PIN is needed
    answer = client.post(
        f"/t/{table.token}/member/", {"mobile": "13700000000", "pin": "112233", "on_bill": "1"}
    )
    made = Member.objects.get()
    assert answer.status_code == 302 and answer["Location"].startswith(f"/m/{made.link_token}/")
    assert build_settlement(tab.pk)["member"]["ref"] == made.number
    assert made.number in client.get(answer["Location"]).content.decode()


def test_a_phone_pays_its_share_by_balance_with_the_pin(client, table, menu, member):
    tab = seat(table, menu)
    fields = {"tab": tab.pk, "version": Tab.objects.get(pk=tab.pk).version, "key": "p1"}
    wrong = client.post(
        f"/t/{table.token}/pay/start/",
        {**fields, "choice": "share", "people": "2", "method": "member",
         "member_login": "13800138000", "member_pin": "999999"},
        headers=HTMX,
    )  # fmt: skip
    assert wrong.status_code == 403 and "Wrong PIN" in wrong.content.decode()
    answer = client.post(
        f"/t/{table.token}/pay/start/",
        {**fields, "choice": "share", "people": "2", "method": "member",
         "member_login": "13800138000", "member_pin": "123456"},
        headers=HTMX,
    )  # fmt: skip
    assert answer.status_code == 200 and "Paid ¥25" in answer.content.decode()
    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.scope) == ("member", Decimal("25"), "share")
    member.refresh_from_db()
    assert member.balance == 75


def test_the_till_takes_a_member_code_and_puts_a_member_on_the_bill(till, table, menu, member):
    tab = seat(table, menu)
    code, _ = members.member_code(member)
    answer = till.post(f"/cashier/tabs/{tab.pk}/member/", {"member_code": code}, headers=HTMX)
    assert answer.status_code == 200 and member.number in answer.content.decode()
    assert build_settlement(tab.pk)["member"]["ref"] == member.number
    tab.refresh_from_db()
    reused = till.post(
        f"/cashier/tabs/{tab.pk}/pay/",
        {"method": "member", "amount": "30", "version": tab.version, "key": "k",
         "member_code": code},
        headers=HTMX,
    )  # fmt: skip
    assert reused.status_code == 409  # the code was used to identify: once
    paid = till.post(
        f"/cashier/tabs/{tab.pk}/pay/",
        {"method": "member", "amount": "30", "version": tab.version, "key": "k2",
         "member_login": "13800138000", "member_pin": "123456"},
        headers=HTMX,
    )  # fmt: skip
    assert paid.status_code == 200 and "Paid ¥30" in paid.content.decode()
    member.refresh_from_db()
    assert member.balance == 70
    till.post(f"/cashier/tabs/{tab.pk}/member/off/", headers=HTMX)
    assert build_settlement(tab.pk)["member"] is None


def test_the_api_takes_a_member_payment_with_the_pin_and_the_settlement_names_it(
    api, table, menu, member
):
    tab = seat(table, menu)
    body = {"method": "member", "amount": "20", "version": tab.version, "key": "api-1"}
    missing = api.staff_post(f"/tabs/{tab.pk}/payments", body)
    assert missing.status_code == 400 and missing.json()["error"] == "member_auth_required"
    wrong = api.staff_post(
        f"/tabs/{tab.pk}/payments", {**body, "member": {"login": member.number, "pin": "000000"}}
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_pin"
    paid = api.staff_post(
        f"/tabs/{tab.pk}/payments", {**body, "member": {"login": member.number, "pin": "123456"}}
    )
    assert paid.status_code == 201, paid.json()
    answer = paid.json()
    assert answer["payment"]["method"] == "member" and answer["payment"]["status"] == "succeeded"
    assert [p["method"] for p in answer["settlement"]["payments"]] == ["member"]
    assert answer["settlement"]["balance_due"] == "30.00"
    poor = members.member_create(pin="654321")
    members.top_up_create(member_id=poor.pk, amount=Decimal("10"), method="cash", key="t")
    short = api.staff_post(
        f"/tabs/{tab.pk}/payments",
        {**body, "amount": "30", "version": answer["settlement"]["version"], "key": "api-2",
         "member": {"login": poor.number, "pin": "654321"}},
    )  # fmt: skip
    assert short.status_code == 409 and short.json()["error"] == "not_enough_balance"


def test_the_openapi_schema_names_the_member_method_and_its_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    payment_in = schema["components"]["schemas"]["PaymentIn"]
    assert "member" in payment_in["properties"]["method"]["enum"]
    assert "member" in payment_in["properties"]
    assert set(schema["components"]["schemas"]["MemberIn"]["properties"]) == {
        "code",
        "login",
        "pin",
    }


def test_the_members_coupons_show_at_the_till_and_on_their_card(till, member, table, menu):
    from payments.coupons import services as coupon_services
    from payments.coupons.models import Coupon

    coupon = Coupon.objects.create(name="满40减10", type="threshold", off=Decimal("10"), minimum=40)
    issued = coupon_services.coupon_issue(coupon=coupon, member_id=member.pk)
    tab = seat(table, menu)
    coupon_services.coupon_redeem(code=issued.code, tab_id=tab.pk)
    page = till.get(f"/cashier/members/{member.pk}/").content.decode()
    assert "满40减10" in page and issued.code in page
    phone = Client()
    phone.post(f"/m/{member.link_token}/unlock/", {"pin": "123456"})
    assert issued.code in phone.get(f"/m/{member.link_token}/").content.decode()


def test_the_manager_looks_up_top_ups_in_the_admin_and_cannot_change_them(manager, member):
    manager.is_staff = True  # the admin's door, as the manager's staff pages give it
    manager.save()
    boss = Client()
    boss.force_login(manager)
    top_up = member.top_ups.get()
    listed = boss.get("/admin/members/topup/", headers=EN)
    assert listed.status_code == 200 and member.number in listed.content.decode()
    shown = boss.get(f"/admin/members/topup/{top_up.pk}/change/", headers=EN)
    assert shown.status_code == 200 and "100.00" in shown.content.decode()
    boss.post(f"/admin/members/topup/{top_up.pk}/change/", {"amount": "999"})
    top_up.refresh_from_db()
    assert top_up.amount == 100
    assert boss.get("/admin/members/topup/add/").status_code == 403
