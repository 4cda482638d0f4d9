"""Parse at the edge, type the core (issue 7, item 4): pages read what they are sent with forms,
the API with its schemas, and both refuse the same mistake with the same code and message; the
services take typed values and hold only the rules, so none of them reads raw text."""

import ast
import html
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from orders.models import CartItem, Diner, Order, Tab
from payments.forms import PaymentForm
from payments.models import Payment
from restaurant.lib.devices import DeviceToken
from restaurant.lib.errors import Code, Refused

pytestmark = pytest.mark.django_db

SERVICES = [
    "menu/services.py",
    "orders/services.py",
    "payments/services.py",
    "payments/coupons/services.py",
    "payments/members/services.py",
]


@pytest.mark.parametrize("path", SERVICES)
def test_no_service_reads_raw_input(path):
    """The readers of raw input (restaurant.lib.parse, Django's forms, pydantic) stay at the
    edges; a service that wants one of them has a parameter whose type is wrong."""
    tree = ast.parse((Path(settings.BASE_DIR) / path).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported |= {node.module or ""} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    readers = ("restaurant.lib.parse", "restaurant.lib.forms", "django.forms", "pydantic", "ninja")
    assert not [name for name in imported if name.startswith(readers)]


def test_a_form_refuses_with_its_first_fields_code_whatever_order_the_fields_came_in():
    posted = {"amount": "12.345", "method": "cheque", "version": "1", "key": "k"}
    with pytest.raises(Refused) as refused:
        PaymentForm.parse(posted)
    assert refused.value.code == Code.BAD_METHOD
    with pytest.raises(Refused) as refused:
        PaymentForm.parse({**posted, "method": "cash"})
    assert refused.value.code == Code.BAD_AMOUNT


def test_a_form_gives_typed_values():
    form = PaymentForm.parse({"method": "cash", "amount": " 12.5 ", "version": "7", "key": " k "})
    assert (form["amount"], form["version"], form["key"]) == (Decimal("12.50"), 7, "k")
    assert form["auth_code"] == "" and form["terminal_ref"] == ""


def test_a_members_proof_is_read_at_the_edge_on_pages_and_in_the_api():
    """The cashier's bill and the pay page (MemberAuthForm) and the API (MemberIn) take the
    member's code, login and PIN as typed or scanned, spaces at either end taken off, so the
    members' service sees the same values from both."""
    from payments.api import MemberIn
    from payments.forms import MemberAuthForm

    typed = {"member_code": " 97123 ", "member_login": " 13800000000", "member_pin": "123456 "}
    assert MemberAuthForm.parse(typed) == {
        "member_code": "97123",
        "member_login": "13800000000",
        "member_pin": "123456",
    }
    assert MemberAuthForm.parse({}) == {"member_code": "", "member_login": "", "member_pin": ""}
    sent = MemberIn(code=" 97123 ", login=" 13800000000", pin="123456 ")
    assert (sent.code, sent.login, sent.pin) == ("97123", "13800000000", "123456")


@pytest.fixture
def seated(table, menu):
    from tests.payments.conftest import seat

    return seat(table, menu)


def _page_and_api(cashier, seated, form):
    """The same payment posted from the cashier's screen and through the staff API."""
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(cashier)
    on_page = page.post(f"/cashier/tabs/{seated.pk}/pay/", form, HTTP_HX_REQUEST="true")
    _device, token = DeviceToken.issue(name="pos", role="cashier")
    in_api = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/tabs/{seated.pk}/payments",
        json.dumps(form),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return on_page, in_api


@pytest.mark.parametrize(
    "change, code",
    [
        ({"amount": "12.345"}, Code.BAD_AMOUNT),
        ({"amount": "0"}, Code.BAD_AMOUNT),
        ({"key": " "}, Code.BAD_KEY),
        ({"key": "k" * 65}, Code.BAD_KEY),
        ({"method": "cheque"}, Code.BAD_METHOD),
        ({"method": "qr", "auth_code": "²" * 18}, Code.BAD_AUTH_CODE),
        ({"method": "qr", "auth_code": "1" * 15}, Code.BAD_AUTH_CODE),
        ({"method": "qr", "auth_code": "99" + "0" * 16}, Code.BAD_AUTH_CODE),
        ({"method": "card"}, Code.REFERENCE_REQUIRED),
    ],
)
def test_the_page_and_the_api_refuse_a_mistake_alike(cashier, seated, change, code):
    form = {"method": "cash", "amount": "50", "version": seated.version, "key": "k", **change}
    on_page, in_api = _page_and_api(cashier, seated, form)
    with translation.override("en"):
        message = Refused(code).message
    assert on_page.status_code == in_api.status_code == code.status
    assert in_api.json() == {"error": code.value, "message": message}
    assert message in html.unescape(on_page.content.decode())
    assert not Payment.objects.exists()


def test_a_negative_version_is_a_bad_version_and_a_missing_one_is_invalid(cashier, seated):
    form = {"method": "cash", "amount": "50", "version": -1, "key": "k"}
    on_page, in_api = _page_and_api(cashier, seated, form)
    assert on_page.status_code == in_api.status_code == 400
    assert in_api.json()["error"] == "bad_version"
    del form["version"]
    on_page, in_api = _page_and_api(cashier, seated, form)
    assert on_page.status_code == 400 and in_api.json()["error"] == "invalid"
    assert not Payment.objects.exists()


def test_a_good_payment_goes_through_from_both(cashier, seated):
    form = {"method": "card", "amount": "20", "version": seated.version, "key": "k"}
    on_page, _in_api = _page_and_api(cashier, seated, {**form, "terminal_ref": "T-1"})
    assert on_page.status_code == 200
    assert Payment.objects.get().amount == 20


# Ordering: the diner's page (forms) and the API (schemas) ----------------------------------


def _add(table, data):
    return Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"/t/{table.token}/cart/", data, HTTP_HX_REQUEST="true"
    )


def test_an_option_that_is_not_a_number_is_named_with_its_dish(table, menu):
    chicken = menu["chicken"]
    answer = _add(table, {"dish": chicken.pk, f"option-{menu['heat'].pk}": "５"})
    with translation.override("en"):
        message = Refused(Code.BAD_OPTIONS, option="５", dish=chicken.name).message
    assert answer.status_code == 400 and message in answer.content.decode()
    assert not CartItem.objects.exists() and not Diner.objects.exists()


@pytest.mark.parametrize(
    "data, code",
    [
        ({"dish": "x"}, Code.UNKNOWN_DISH),
        ({"dish": str(2**63)}, Code.UNKNOWN_DISH),
        ({"quantity": "²"}, Code.BAD_QUANTITY),
        ({"tab": "not-a-visit"}, Code.TAB_CLOSED),
    ],
)
def test_a_bad_cart_line_is_refused_before_anything_is_written(table, menu, data, code):
    answer = _add(table, {"dish": menu["cucumber"].pk, **data})
    assert answer.status_code == code.status
    with translation.override("en"):
        expected = Refused(code, dish=data.get("dish"), max=99).message
    assert expected.split(" ")[0] in answer.content.decode()
    assert not CartItem.objects.exists() and not Diner.objects.exists()


@pytest.mark.parametrize("data", [{"dish": 999_999}, {"quantity": "0"}])
def test_a_line_the_menu_refuses_leaves_no_visit_and_no_numbered_phone(table, menu, data):
    """Well formed, so past the form, and refused by the service: the visit the request opened
    and the diner it numbered go with the refusal."""
    answer = _add(table, {"dish": menu["cucumber"].pk, **data})
    assert answer.status_code == 400
    assert not Tab.objects.exists() and not Diner.objects.exists()


def test_the_cart_submit_reads_its_version_and_guests(table, menu):
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    path = f"/t/{table.token}/"
    phone.post(f"{path}cart/", {"dish": menu["cucumber"].pk}, HTTP_HX_REQUEST="true")
    tab = Tab.objects.get()
    for data, code in [
        ({"cart_version": "x", "guests": "2"}, Code.CART_CHANGED),
        ({"cart_version": tab.cart_version, "guests": "２"}, Code.BAD_GUESTS),
        ({"cart_version": tab.cart_version, "guests": "0"}, Code.BAD_GUESTS),
        ({"cart_version": tab.cart_version}, Code.GUESTS_REQUIRED),
    ]:
        answer = phone.post(f"{path}submit/", {"tab": tab.pk, **data}, HTTP_HX_REQUEST="true")
        assert answer.status_code == code.status, (data, answer.content)
    assert not Order.objects.exists() and CartItem.objects.count() == 1
    answer = phone.post(
        f"{path}submit/",
        {"tab": tab.pk, "cart_version": f" {tab.cart_version} ", "guests": "2"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200 and Order.objects.count() == 1


@pytest.mark.parametrize(
    "status, expect, code",
    [("bogus", "", Code.BAD_STATUS), ("served", "bogus", Code.LINE_MOVED)],
)
def test_a_dish_status_is_read_alike_by_the_kitchen_page_and_the_api(
    cook, table, menu, status, expect, code
):
    from orders import services

    tab = services.tab_for_table(table=table)
    order, _ = services.order_submit(
        tab=tab, key="k", guests=2, lines=[services.LineRequest(dish=menu["cucumber"].pk)]
    )
    line = order.lines.get()
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(cook)
    on_page = page.post(
        f"/kitchen/lines/{line.pk}/status/",
        {"status": status, "expect": expect},
        HTTP_HX_REQUEST="true",
    )
    _device, token = DeviceToken.issue(name="pass", role="kitchen")
    in_api = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/kitchen/lines/{line.pk}/status",
        {"status": status, **({"expect": expect} if expect else {})},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    with translation.override("en"):
        message = Refused(code, status=status).message
    assert on_page.status_code == in_api.status_code == code.status
    assert in_api.json() == {"error": code.value, "message": message}
    assert message in on_page.content.decode()
    line.refresh_from_db()
    assert line.status == "queued"
