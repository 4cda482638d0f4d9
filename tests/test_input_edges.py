"""Input at the edges: numbers and amounts in ASCII digits only ("５", "١٠" and "²" are refused
with a 400, never taken and never a 500), no NUL character in any text, booleans that are
booleans, and no redirect to another site."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from orders.models import CartItem, Order, OrderLine, Tab
from orders.services import tab_for_table
from payments.models import Payment
from restaurant.lib import parse
from restaurant.lib.devices import DeviceToken

pytestmark = pytest.mark.django_db

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FOREIGN_DIGITS = ["５", "١٠", "²", "𝟓", "1e3", "-1", " ", "0x1"]


def staff(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def htmx_post(client, path, data):
    return client.post(path, data, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("text", FOREIGN_DIGITS)
def test_the_parsers_take_ascii_digits_only(text):
    assert parse.whole_number(text) is None
    assert parse.amount(text) is None
    assert parse.whole_number(" 12 ") == 12 and parse.amount("12.5") == parse.amount(" 12.50 ")


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC])
def test_a_diner_page_refuses_option_ids_and_quantities_in_other_digits(table, menu, digits):
    path = f"/t/{table.token}/cart/"
    chicken, mild = menu["chicken"], menu["mild"]
    option = f"option-{menu['heat'].pk}"
    refused = htmx_post(
        Client(), path, {"dish": chicken.pk, option: str(mild.pk).translate(digits)}
    )
    assert refused.status_code == 400
    refused = htmx_post(
        Client(), path, {"dish": menu["cucumber"].pk, "quantity": "2".translate(digits)}
    )
    assert refused.status_code == 400
    assert not CartItem.objects.exists()
    assert htmx_post(Client(), path, {"dish": chicken.pk, option: str(mild.pk)}).status_code == 200


def test_superscript_digits_are_a_400_not_a_500_on_the_diner_page(table, menu):
    client = Client()
    path = f"/t/{table.token}/cart/"
    answer = htmx_post(client, path, {"dish": menu["chicken"].pk, f"option-{menu['heat'].pk}": "²"})
    assert answer.status_code == 400
    htmx_post(client, path, {"dish": menu["cucumber"].pk})
    item = CartItem.objects.get()
    assert (
        htmx_post(client, f"/t/{table.token}/cart/{item.pk}/", {"quantity": "²"}).status_code == 400
    )
    item.refresh_from_db()
    assert item.quantity == 1


@pytest.mark.parametrize("stock", ["²", "１０", "١٠", "-1"])
def test_the_kitchen_stock_page_refuses_other_digits(cook, menu, stock):
    fish = menu["fish"]
    answer = htmx_post(staff(cook), "/kitchen/stock/", {"dish": fish.pk, "stock": stock})
    assert answer.status_code == 400
    fish.refresh_from_db()
    assert fish.stock == 5


@pytest.fixture
def seated(table, menu):
    from tests.payments.conftest import seat

    return seat(table, menu)


@pytest.mark.parametrize("version", ["²", "１", "١"])
def test_the_cashier_refuses_a_version_in_other_digits(cashier, seated, version):
    form = {"method": "cash", "amount": "50", "version": version, "key": "k"}
    answer = htmx_post(staff(cashier), f"/cashier/tabs/{seated.pk}/pay/", form)
    assert answer.status_code == 400
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["５０", "١٠", "5²", "50.٠٠"])
def test_money_in_other_digits_is_refused_on_the_page_and_in_the_api(cashier, seated, amount):
    form = {"method": "cash", "amount": amount, "version": seated.version, "key": "k"}
    answer = htmx_post(staff(cashier), f"/cashier/tabs/{seated.pk}/pay/", form)
    assert answer.status_code == 400
    _device, token = DeviceToken.issue(name="pos", role="cashier")
    answer = Client().post(
        f"/api/v1/tabs/{seated.pk}/payments",
        {**form, "key": "api"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400 and answer.json()["error"] == "bad_amount"
    assert not Payment.objects.exists()


def test_a_nul_character_in_a_diners_note_is_refused(table, menu):
    answer = htmx_post(
        Client(), f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk, "note": "少辣\x00"}
    )
    assert answer.status_code == 400
    assert not CartItem.objects.exists()


def test_a_nul_character_anywhere_in_an_api_body_is_refused(table, menu):
    body = {
        "key": "nul",
        "guests": 2,
        "lines": [{"dish": menu["cucumber"].pk, "note": "no\u0000te"}],
    }
    answer = Client().post(
        f"/api/v1/tables/{table.token}/orders", json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == 400 and answer.json()["error"] == "nul_in_text"
    answer = Client().post(
        f"/api/v1/tables/{table.token}/orders",
        json.dumps({**body, "key": "k\u0000", "lines": [{"dish": menu["cucumber"].pk}]}),
        content_type="text/plain",
    )
    assert answer.status_code == 400
    assert not Order.objects.exists()


def test_a_nul_character_in_a_staff_form_or_a_query_is_refused(cashier, seated):
    client = staff(cashier)
    line = seated.orders.get().lines.first()
    answer = htmx_post(client, f"/cashier/lines/{line.pk}/void/", {"reason": "wrong\x00dish"})
    assert answer.status_code == 400
    assert OrderLine.objects.filter(status="voided").count() == 0
    assert client.get("/cashier/find/", {"q": "A1\x00"}).status_code == 400


@pytest.mark.parametrize("hold", ["yes", "true", 1, "1", None])
def test_hold_must_be_a_json_boolean(table, menu, hold):
    body = {"key": f"h{hold}", "guests": 2, "lines": [{"dish": menu["cucumber"].pk, "hold": hold}]}
    answer = Client().post(
        f"/api/v1/tables/{table.token}/orders", body, content_type="application/json"
    )
    assert answer.status_code == 400
    assert not Order.objects.exists()


def test_hold_true_holds_the_dish(table, menu):
    body = {"key": "h", "guests": 2, "lines": [{"dish": menu["cucumber"].pk, "hold": True}]}
    answer = Client().post(
        f"/api/v1/tables/{table.token}/orders", body, content_type="application/json"
    )
    assert answer.status_code == 201
    assert OrderLine.objects.get().status == "held"


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://elsewhere.example/",
        "//elsewhere.example/",
        "https:///elsewhere.example",
        "\\\\elsewhere.example",
    ],
)
def test_a_staff_post_without_htmx_never_redirects_to_another_site(cook, table, menu, elsewhere):
    tab = tab_for_table(table=table)
    from orders import services

    order, _ = services.order_submit(
        tab=tab, key="n", guests=2, lines=[services.LineRequest(dish=menu["cucumber"].pk)]
    )
    line = order.lines.get()
    answer = staff(cook).post(f"/kitchen/lines/{line.pk}/bump/", {"next": elsewhere})
    assert answer.status_code == 302
    assert answer["Location"] == "/kitchen/"
    answer = staff(cook).post(f"/kitchen/lines/{line.pk}/bump/", {"next": "/kitchen/cold/"})
    assert answer["Location"] == "/kitchen/cold/"
    assert Tab.objects.count() == 1


@pytest.mark.parametrize("tab", ["²", "１", "١"])
def test_the_cashier_screen_takes_a_tab_in_other_digits_as_no_tab(cashier, seated, tab):
    page = staff(cashier).get("/cashier/", {"tab": tab})
    assert page.status_code == 200
    assert 'id="bill"' not in page.content.decode()
    assert 'id="bill"' in staff(cashier).get("/cashier/", {"tab": seated.pk}).content.decode()


def kitchen_device():
    _device, raw = DeviceToken.issue(name="pass", role="kitchen")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.mark.parametrize("field", ["sold_out", "unlimited"])
@pytest.mark.parametrize("loose", ["yes", "true", "1", 1, 0, "no"])
def test_sold_out_and_unlimited_must_be_json_booleans(menu, field, loose):
    fish = menu["fish"]
    fish_before = (fish.sold_out, fish.stock)
    answer = Client().post(
        f"/api/v1/kitchen/dishes/{fish.pk}/availability",
        {field: loose},
        content_type="application/json",
        **kitchen_device(),
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"] == "invalid" and field in answer.json()["message"]
    fish.refresh_from_db()
    assert (fish.sold_out, fish.stock) == fish_before


def test_sold_out_and_unlimited_take_true_and_false(menu):
    fish, path = menu["fish"], f"/api/v1/kitchen/dishes/{menu['fish'].pk}/availability"
    for body, expected in [
        ({"sold_out": True}, (True, fish.stock)),
        ({"sold_out": False, "stock": 3}, (False, 3)),
        ({"unlimited": True}, (False, None)),
    ]:
        answer = Client().post(path, body, content_type="application/json", **kitchen_device())
        assert answer.status_code == 200, answer.content
        fish.refresh_from_db()
        assert (fish.sold_out, fish.stock) == expected


# NUL over WebSockets: refused at the edge like the HTTP middleware, before any consumer runs.


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "where", ["/ws/t/{token}%00/", "/ws/t/{token}/?tab=%00", "/ws/t/{token}/?lang=en%00"]
)
async def test_a_socket_whose_address_carries_a_nul_is_refused(table, menu, where):
    from tests.sockets import connect

    socket, connected, code = await connect(where.format(token=table.token))
    assert not connected and code == 4400
    assert not await sync_to_async(Tab.objects.exists)()  # no consumer ran: no visit opened


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_message_carrying_a_nul_closes_the_socket(table, menu):
    from tests.sockets import connect

    socket, connected, _ = await connect(f"/ws/t/{table.token}/?lang=en")
    assert connected
    await socket.receive_from(timeout=5)  # the state
    await socket.send_to(text_data="fine")  # other messages are ignored, as before
    assert await socket.receive_nothing(timeout=0.3)
    await socket.send_to(text_data="no\x00te")
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4400}
