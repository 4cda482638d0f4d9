"""A table's token is tied to the visit: closing a table ends it for every phone, page, cart,
API key and socket that joined it; the next guests start a new one (issue 11)."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from orders import services
from orders.models import CartItem, Order, Tab
from payments import services as payment_services
from tests.sockets import connect

ENDED = "This visit has ended"


def phone():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def add(client, table, dish, **fields):
    return client.post(f"/t/{table.token}/cart/", {"dish": dish.pk, "quantity": 1, **fields})


def close(tab, *, rotate=False):
    """Take what is owed in cash, then free the table."""
    _settlement, due = payment_services.amount_due(tab.pk)
    if due > 0:
        tab.refresh_from_db()
        payment_services.payment_start(
            tab_id=tab.pk, method="cash", amount=due, version=tab.version, key=f"cash-{tab.pk}"
        )
    payment_services.tab_close(tab_id=tab.pk, rotate_token=rotate)


def current(table):
    return Tab.objects.exclude(status="closed").get(table=table)


def api_order(table, menu, key, **body):
    return Client().post(
        f"/api/v1/tables/{table.token}/orders",
        {"key": key, "guests": 2, "lines": [{"dish": menu["cucumber"].pk}], **body},
        content_type="application/json",
    )


@pytest.fixture
def old_visit(table, menu):
    """A phone joined a visit and added a dish; the table was closed (nothing owed) and the
    next guests sat down and started their own cart."""
    old = phone()
    old.get(f"/t/{table.token}/")  # a look opens nothing: the first dish opens the visit
    add(old, table, menu["cucumber"], tab="")
    first = current(table)
    CartItem.objects.filter(tab=first).delete()
    close(first)
    guests = phone()
    add(guests, table, menu["fish"], tab="")
    return old, first, current(table)


def test_a_page_post_without_the_tab_field_after_close_is_refused(table, menu, old_visit):
    old, first, second = old_visit
    answer = add(old, table, menu["cucumber"])  # the field stripped from the old page's form
    assert answer.status_code == 409
    assert "open the table&#x27;s page again" in answer.content.decode()
    assert [i.dish_id for i in CartItem.objects.filter(tab=second)] == [menu["fish"].pk]


def test_a_page_of_the_ended_visit_is_refused_with_a_clear_page(table, menu, old_visit):
    old, first, second = old_visit
    answer = add(old, table, menu["cucumber"], tab=first.pk)
    assert answer.status_code == 409
    assert "This bill is closed" in answer.content.decode()
    assert "Traceback" not in answer.content.decode()
    assert CartItem.objects.filter(tab=second).count() == 1


def test_an_old_cart_key_never_submits_the_next_guests_cart(table, menu, old_visit):
    old, first, second = old_visit
    second.refresh_from_db()
    answer = old.post(
        f"/t/{table.token}/submit/",
        {"tab": first.pk, "cart_version": second.cart_version, "guests": 2},
    )
    assert answer.status_code == 409
    assert not Order.objects.filter(tab=second).exists()
    assert CartItem.objects.filter(tab=second).count() == 1


def test_a_new_phone_joins_the_next_visit(table, menu, old_visit):
    _old, _first, second = old_visit
    assert add(phone(), table, menu["cucumber"], tab=second.pk).status_code == 302
    assert CartItem.objects.filter(tab=second).count() == 2


def test_an_api_order_in_an_ended_visit_is_refused(table, menu):
    answer = api_order(table, menu, "pos-1")
    assert answer.status_code == 201
    first = answer.json()["tab"]
    close(Tab.objects.get(pk=first))
    services.tab_for_table(table=table)  # the next guests sit down
    late = api_order(table, menu, "pos-2", tab=first)
    assert late.status_code == 409 and late.json()["error"] == "tab_closed"
    retried = api_order(table, menu, "pos-1")  # a retry of the old visit's order
    assert retried.status_code == 409 and retried.json()["error"] == "tab_closed"
    assert not Order.objects.filter(tab=current(table)).exists()


def test_an_api_key_never_takes_a_pages_cart_key(table, menu):
    """An API order keyed `cart-2` must not make the page's 下单 of cart version 2 answer with
    it while the cart never reaches the kitchen."""
    answer = api_order(table, menu, "cart-2")
    assert answer.status_code == 400 and answer.json()["error"] == "key_reserved"
    diner = phone()
    tab = services.tab_for_table(table=table)
    add(diner, table, menu["fish"], tab=tab.pk)
    tab.refresh_from_db()
    diner.post(
        f"/t/{table.token}/submit/", {"tab": tab.pk, "cart_version": tab.cart_version, "guests": 2}
    )
    order = Order.objects.get(tab=tab)
    assert [line.name for line in order.lines.all()] == ["清蒸鲈鱼"]


def test_with_staff_opening_a_free_table_cannot_order_until_staff_open_it(
    table, menu, cashier, settings
):
    settings.TABLE_OPENING = "staff"
    look = phone().get(f"/t/{table.token}/")
    assert look.status_code == 200 and "ask a member of staff" in look.content.decode()
    assert add(phone(), table, menu["cucumber"], tab="").status_code == 409
    assert api_order(table, menu, "home-photo").json()["error"] == "table_not_open"
    assert not Tab.objects.exists()
    waiter = Client()
    waiter.force_login(cashier)
    page = waiter.get(f"/t/{table.token}/")
    assert page.status_code == 200 and "/open/" in page.content.decode()
    assert not Tab.objects.exists()  # a waiter's look opens nothing either
    assert phone().post(f"/t/{table.token}/open/").status_code in (302, 403)  # staff only
    assert not Tab.objects.exists()
    assert waiter.post(f"/t/{table.token}/open/").status_code == 302  # 开台
    tab = current(table)
    assert add(phone(), table, menu["cucumber"], tab=tab.pk).status_code == 302


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rotate", [False, True])
async def test_an_open_socket_is_told_and_closed_when_its_visit_ends(table, menu, rotate):
    tab = await sync_to_async(services.tab_for_table)(table=table)
    socket, connected, _ = await connect(f"/ws/t/{table.token}/?lang=en&tab={tab.pk}")
    assert connected
    await socket.receive_from(timeout=5)
    await sync_to_async(close)(tab, rotate=rotate)
    told = ""
    while ENDED not in told:
        told = await socket.receive_from(timeout=5)
    assert 'id="visit"' in told
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4410}
    # The next guests' cart never reaches it, and a reconnect of the old page is ended at once.
    again, connected, _ = await connect(f"/ws/t/{table.token}/?lang=en&tab={tab.pk}")
    if rotate:
        assert not connected
    else:
        assert ENDED in await again.receive_from(timeout=5)
        await again.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_is_closed_when_the_tables_code_is_replaced(table, menu, manager):
    tab = await sync_to_async(services.tab_for_table)(table=table)
    socket, connected, _ = await connect(f"/ws/t/{table.token}/?lang=en&tab={tab.pk}")
    assert connected
    await socket.receive_from(timeout=5)

    @sync_to_async
    def rotate():
        manager.is_staff = True
        manager.save()
        admin = Client()
        admin.force_login(manager)
        admin.post(
            "/admin/orders/table/", {"action": "rotate_tokens", "_selected_action": [table.pk]}
        )

    await rotate()
    told = ""
    while ENDED not in told:
        told = await socket.receive_from(timeout=5)
    assert (await socket.receive_output(timeout=5))["code"] == 4410


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_cannot_follow_another_tables_tab(table, other_table, menu):
    theirs = await sync_to_async(services.tab_for_table)(table=other_table)
    _socket, connected, _ = await connect(f"/ws/t/{table.token}/?tab={theirs.pk}")
    assert not connected
