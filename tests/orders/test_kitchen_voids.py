"""A dish voided while the kitchen had it stays on its ticket, struck through, on every board,
until a cook clears the ticket or KITCHEN_VOID_MINUTES pass (README, "Kitchen")."""

import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from orders import selectors, services
from orders.models import OrderLine, TabEvent
from restaurant.lib.devices import DeviceToken
from tests.sockets import connect, session_cookie


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def order(table, *dishes, key="k1"):
    tab = services.tab_for_table(table=table)
    lines = [services.LineRequest(dish=dish.pk) for dish in dishes]
    return services.order_submit(tab=tab, key=key, guests=2, lines=lines)[0]


def ticket_html(html, order_id):
    found = re.search(rf'<article id="ticket-{order_id}".*?</article>', html, re.S)
    return found.group(0) if found else None


@pytest.mark.django_db
def test_a_ticket_whose_only_dish_was_voided_stays_struck_through_until_cleared(
    cook, cashier, table, menu
):
    placed = order(table, menu["fish"])
    fish = placed.lines.get()
    services.line_void(line_id=fish.pk, reason="客人不要了", user=cashier)

    page = logged_in(cook).get("/kitchen/").content.decode()
    ticket = ticket_html(page, placed.pk)
    assert ticket is not None, "the ticket left the board with its void unseen"
    assert 'class="line status-voided"' in ticket and "清蒸鲈鱼" in ticket
    assert "已退菜" in ticket and "清除" in ticket
    assert f"/kitchen/tickets/{placed.pk}/clear/" in ticket  # the header clears, moves nothing
    assert ticket_html(logged_in(cook).get("/kitchen/hot/").content.decode(), placed.pk)
    assert ticket_html(logged_in(cook).get("/kitchen/cold/").content.decode(), placed.pk) is None

    answer = logged_in(cook).post(f"/kitchen/tickets/{placed.pk}/clear/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 204
    assert ticket_html(logged_in(cook).get("/kitchen/").content.decode(), placed.pk) is None
    assert TabEvent.objects.filter(line=fish, kind="line.void_cleared", user=cook).count() == 1
    # Clearing again (a second screen) finds nothing and records nothing more.
    logged_in(cook).post(f"/kitchen/tickets/{placed.pk}/clear/", HTTP_HX_REQUEST="true")
    assert TabEvent.objects.filter(line=fish, kind="line.void_cleared").count() == 1
    assert logged_in(cashier).post(f"/kitchen/tickets/{placed.pk}/clear/").status_code == 403


@pytest.mark.django_db
def test_a_void_beside_dishes_still_to_make_keeps_the_header_moving_them_on(
    cook, cashier, table, menu
):
    placed = order(table, menu["fish"], menu["cucumber"])
    fish, cucumber = placed.lines.order_by("id")
    services.line_void(line_id=fish.pk, reason="改主意", user=cashier)
    [shown] = [o for o in selectors.open_tickets() if o.pk == placed.pk]
    assert shown.has_work and shown.clear_at is None
    ticket = ticket_html(logged_in(cook).get("/kitchen/").content.decode(), placed.pk)
    assert f"/kitchen/tickets/{placed.pk}/bump/" in ticket and "status-voided" in ticket
    # The cold dish is made; the hot board still shows its void, the cold board lets go.
    services.line_set_status(line_id=cucumber.pk, status=OrderLine.Status.READY, user=cook)
    assert selectors.ticket(placed.pk, menu["cold_station"]) is None
    hot = selectors.ticket(placed.pk, menu["hot_station"])
    assert hot is not None and not hot.has_work and hot.clear_at is not None
    # Clearing at the hot station clears the hot board's voids: the ticket is done everywhere.
    assert services.ticket_clear(order_id=placed.pk, station=menu["hot_station"], user=cook) == 1
    assert selectors.ticket(placed.pk) is None
    assert placed.pk in [o.pk for o in selectors.done_tickets()]


@pytest.mark.django_db
def test_a_void_ages_out_after_the_kitchens_void_minutes(cook, cashier, table, menu, settings):
    settings.KITCHEN_VOID_MINUTES = 7
    placed = order(table, menu["fish"])
    fish = placed.lines.get()
    before = timezone.now()
    services.line_void(line_id=fish.pk, reason="x", user=cashier)
    fish.refresh_from_db()
    assert (
        before + timedelta(minutes=7)
        <= fish.void_shown_until
        <= timezone.now() + timedelta(minutes=7)
    )
    ticket = ticket_html(logged_in(cook).get("/kitchen/").content.decode(), placed.pk)
    assert f'data-clear-at="{int(fish.void_shown_until.timestamp())}"' in ticket
    OrderLine.objects.filter(pk=fish.pk).update(void_shown_until=timezone.now())
    assert selectors.ticket(placed.pk) is None
    assert ticket_html(logged_in(cook).get("/kitchen/").content.decode(), placed.pk) is None


@pytest.mark.django_db
def test_a_dish_voided_after_the_kitchen_finished_it_does_not_bring_its_ticket_back(
    cook, manager, table, menu
):
    placed = order(table, menu["fish"])
    fish = placed.lines.get()
    services.line_set_status(line_id=fish.pk, status=OrderLine.Status.READY, user=cook)
    services.line_void(line_id=fish.pk, reason="x", user=manager)
    fish.refresh_from_db()
    assert fish.void_shown_until is None
    assert selectors.ticket(placed.pk) is None


@pytest.mark.django_db
def test_a_kitchen_device_sees_when_a_voided_ticket_leaves_and_clears_it(cashier, table, menu):
    placed = order(table, menu["fish"])
    services.line_void(line_id=placed.lines.get().pk, reason="x", user=cashier)
    _device, raw = DeviceToken.issue(name="hot tablet", role="kitchen")
    device = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    [shown] = Client().get("/api/v1/kitchen/tickets?station=hot", **device).json()
    assert shown["order"] == placed.pk and shown["clear_at"] is not None
    assert [line["status"] for line in shown["lines"]] == ["voided"]
    url = f"/api/v1/kitchen/tickets/{placed.pk}/clear?station=hot"
    assert Client().post(url, **device).json() == {"cleared": 1}
    assert Client().get("/api/v1/kitchen/tickets", **device).json() == []
    assert Client().post(url).status_code == 401


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_every_board_keeps_the_voided_ticket_live_and_drops_it_when_cleared(
    cook, cashier, table, menu
):
    cookie = await sync_to_async(session_cookie)(cook)
    placed = await sync_to_async(order)(table, menu["fish"])
    fish = await sync_to_async(lambda: placed.lines.get())()
    screens = {}
    for path in ("/ws/kitchen/", "/ws/kitchen/hot/", "/ws/kitchen/?lang=en", "/ws/kitchen/cold/"):
        screen, connected, _ = await connect(path, cookie)
        assert connected
        assert 'id="board"' in await screen.receive_from(timeout=5)
        screens[path] = screen

    await sync_to_async(services.line_void)(line_id=fish.pk, reason="客人不要了", user=cashier)
    for path, screen in screens.items():
        pushed = await screen.receive_from(timeout=5)
        if path == "/ws/kitchen/cold/":
            assert "ticket-" not in pushed  # nothing of this ticket there: only the counts
            continue
        ticket = ticket_html(pushed, placed.pk)
        assert ticket and 'hx-swap-oob="true"' in ticket and "delete" not in pushed
        assert 'class="line status-voided"' in ticket and "is-voided" in ticket
        assert ("Steamed bass" if "lang=en" in path else "清蒸鲈鱼") in ticket

    await sync_to_async(services.ticket_clear)(order_id=placed.pk, user=cook)
    for path, screen in screens.items():
        pushed = await screen.receive_from(timeout=5)
        if path != "/ws/kitchen/cold/":
            assert f'<div id="ticket-{placed.pk}" hx-swap-oob="delete">' in pushed
    for screen in screens.values():
        await screen.disconnect()
