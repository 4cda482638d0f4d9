"""WebSockets through the real ASGI application: who may join, the state on connect, and pushes."""

import pytest
from asgiref.sync import sync_to_async

from orders import services
from orders.models import OrderLine
from tests.sockets import connect, session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def add_to_cart(table, dish, quantity=1):
    tab = services.tab_for_table(table=table)
    services.cart_add(
        tab=tab, diner=None, request=services.LineRequest(dish=dish.pk, quantity=quantity)
    )


@sync_to_async
def submit(table, dish, key="k"):
    tab = services.tab_for_table(table=table)
    return services.order_submit(
        tab=tab, key=key, guests=2, lines=[services.LineRequest(dish=dish.pk)]
    )[0]


@sync_to_async
def bump(line_id, user):
    services.line_set_status(line_id=line_id, status=OrderLine.Status.READY, user=user)


async def test_a_phone_gets_its_cart_on_connect_and_every_change_after(table, menu):
    await add_to_cart(table, menu["cucumber"])
    phone, connected, _ = await connect(f"/ws/t/{table.token}/")
    assert connected
    first = await phone.receive_from(timeout=5)
    assert 'id="cart"' in first and "拍黄瓜" in first and 'id="tab"' in first
    await add_to_cart(table, menu["fish"], 2)
    pushed = await phone.receive_from(timeout=5)
    assert "清蒸鲈鱼" in pushed and 'id="cart-bar"' in pushed
    await phone.disconnect()


async def test_a_table_socket_never_receives_another_tables_cart(table, other_table, menu):
    phone, connected, _ = await connect(f"/ws/t/{table.token}/")
    assert connected
    await phone.receive_from(timeout=5)  # its own state
    await add_to_cart(other_table, menu["cucumber"])
    await submit(other_table, menu["cucumber"])
    assert await phone.receive_nothing(timeout=0.5)
    await phone.disconnect()


async def test_a_phone_in_english_gets_english_pushes(table, menu):
    phone, connected, _ = await connect(f"/ws/t/{table.token}/?lang=en")
    assert connected
    await phone.receive_from(timeout=5)
    await add_to_cart(table, menu["cucumber"])
    pushed = await phone.receive_from(timeout=5)
    assert "Smashed cucumber" in pushed
    await phone.disconnect()


async def test_an_unknown_token_is_refused(db):
    _phone, connected, code = await connect("/ws/t/nope/")
    assert not connected and code == 4404


async def test_the_kitchen_socket_refuses_anonymous_visitors_and_other_staff(outsider, cashier):
    cookies = [await sync_to_async(session_cookie)(user) for user in (outsider, cashier)]
    for headers in ((), *((cookie,) for cookie in cookies)):
        _screen, connected, code = await connect("/ws/kitchen/", *headers)
        assert not connected and code == 4403


async def test_the_kitchen_screen_gets_the_board_then_each_new_ticket_and_bump(cook, table, menu):
    existing = await submit(table, menu["cucumber"], key="first")
    screen, connected, _ = await connect("/ws/kitchen/", await sync_to_async(session_cookie)(cook))
    assert connected
    board = await screen.receive_from(timeout=5)
    assert f'id="ticket-{existing.pk}"' in board and 'id="board"' in board

    placed = await submit(table, menu["fish"], key="second")
    added = await screen.receive_from(timeout=5)
    assert 'hx-swap-oob="beforeend:#tickets"' in added and f'id="ticket-{placed.pk}"' in added
    assert "清蒸鲈鱼" in added

    line = await sync_to_async(lambda: placed.lines.get())()
    await bump(line.pk, cook)
    gone = await screen.receive_from(timeout=5)
    assert f'id="ticket-{placed.pk}"' in gone and 'hx-swap-oob="delete"' in gone
    await screen.disconnect()


async def test_a_reconnecting_kitchen_screen_gets_every_open_ticket_again(
    cook, table, other_table, menu
):
    cookie = await sync_to_async(session_cookie)(cook)
    screen, _, _ = await connect("/ws/kitchen/", cookie)
    await screen.receive_from(timeout=5)
    await screen.disconnect()
    # Orders keep coming while the screen is away.
    missed = [
        await submit(table, menu["cucumber"], key="m1"),
        await submit(other_table, menu["fish"], key="m2"),
    ]
    screen, connected, _ = await connect("/ws/kitchen/", cookie)
    assert connected
    board = await screen.receive_from(timeout=5)
    for order in missed:
        assert board.count(f'id="ticket-{order.pk}"') == 1
    await screen.disconnect()


@sync_to_async
def set_sold_out(dish):
    from menu.services import dish_set_availability

    dish_set_availability(dish_id=dish.pk, sold_out=True)


async def test_a_station_screen_gets_only_tickets_with_its_dishes(cook, table, other_table, menu):
    cookie = await sync_to_async(session_cookie)(cook)
    cold, connected, _ = await connect("/ws/kitchen/cold/", cookie)
    assert connected
    await cold.receive_from(timeout=5)  # the board
    await submit(table, menu["fish"], key="hot-only")
    stats = await cold.receive_from(timeout=5)
    assert 'id="stats"' in stats and "ticket-" not in stats  # a hot dish: only the counts move
    placed = await submit(other_table, menu["cucumber"], key="cold")
    added = await cold.receive_from(timeout=5)
    assert f'id="ticket-{placed.pk}"' in added and "拍黄瓜" in added
    await cold.disconnect()
    _screen, connected, code = await connect("/ws/kitchen/nowhere/", cookie)
    assert not connected and code == 4403


async def test_the_pass_screen_sees_a_dish_turn_ready(cook, table, menu):
    cookie = await sync_to_async(session_cookie)(cook)
    runner, connected, _ = await connect("/ws/pass/", cookie)
    assert connected
    assert "拍黄瓜" not in await runner.receive_from(timeout=5)
    placed = await submit(table, menu["cucumber"])
    line = await sync_to_async(lambda: placed.lines.get())()
    await bump(line.pk, cook)
    ready = await runner.receive_from(timeout=5)
    assert 'id="pass-board"' in ready and "拍黄瓜" in ready and "A1" in ready
    await runner.disconnect()


async def test_every_open_menu_greys_out_a_dish_marked_sold_out(table, other_table, menu):
    here, _, _ = await connect(f"/ws/t/{table.token}/")
    there, _, _ = await connect(f"/ws/t/{other_table.token}/")
    for phone in (here, there):
        await phone.receive_from(timeout=5)
    await add_to_cart(table, menu["cucumber"])
    await here.receive_from(timeout=5)  # its cart
    await set_sold_out(menu["cucumber"])
    for phone in (here, there):
        pushed = await phone.receive_from(timeout=5)
        assert f'id="dish-{menu["cucumber"].pk}"' in pushed and "sold-out" in pushed
        assert len(pushed) < 3000  # tiny: it reaches every open menu
    cart = await here.receive_from(timeout=5)
    assert 'class="warning"' in cart
    assert await there.receive_nothing(timeout=0.3)
    for phone in (here, there):
        await phone.disconnect()
