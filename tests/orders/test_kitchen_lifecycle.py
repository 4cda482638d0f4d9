"""The kitchen's whole evening: stations, bumps and recall, 叫起, 催菜, 退菜, 估清, the pass."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from menu.models import MenuState
from orders import selectors, services
from orders.models import CartItem, OrderLine, Tab, TabEvent
from restaurant.lib.devices import DeviceToken

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def order(table, *lines, key="k1"):
    tab = services.tab_for_table(table=table)
    return services.order_submit(tab=tab, key=key, guests=2, lines=list(lines))[0]


def line(dish, **kwargs):
    return services.LineRequest(dish=dish.pk, **kwargs)


def status(line_obj):
    line_obj.refresh_from_db()
    return line_obj.status


def test_a_station_board_shows_only_its_own_dishes(cook, table, menu):
    order(table, line(menu["cucumber"]), line(menu["chicken"], options=[menu["mild"].pk]))
    cold = logged_in(cook).get("/kitchen/cold/").content.decode()
    hot = logged_in(cook).get("/kitchen/hot/").content.decode()
    everything = logged_in(cook).get("/kitchen/").content.decode()
    assert "拍黄瓜" in cold and "宫保鸡丁" not in cold
    assert "宫保鸡丁" in hot and "拍黄瓜" not in hot
    assert "拍黄瓜" in everything and "宫保鸡丁" in everything
    assert logged_in(cook).get("/kitchen/nowhere/").status_code == 404


def test_an_add_on_round_is_marked_on_its_ticket(cook, table, menu):
    order(table, line(menu["cucumber"]), key="one")
    order(table, line(menu["cucumber"]), key="two")
    html = logged_in(cook).get("/kitchen/").content.decode()
    assert html.count("round-badge") == 1


def test_tapping_a_ticket_header_moves_its_station_lines_on(cook, table, menu):
    placed = order(table, line(menu["cucumber"]), line(menu["fish"]))
    cucumber, fish = placed.lines.order_by("id")
    logged_in(cook).post(
        f"/kitchen/tickets/{placed.pk}/bump/", {"station": "hot"}, HTTP_HX_REQUEST="true"
    )
    assert (status(cucumber), status(fish)) == ("queued", "cooking")


def test_recall_undoes_this_screens_last_bump_only(cook, table, menu):
    placed = order(table, line(menu["cucumber"]))
    dish = placed.lines.get()
    screen = logged_in(cook)
    screen.post(f"/kitchen/lines/{dish.pk}/bump/", HTTP_HX_REQUEST="true")
    screen.post(f"/kitchen/lines/{dish.pk}/bump/", HTTP_HX_REQUEST="true")
    assert status(dish) == "ready"
    assert screen.post("/kitchen/recall/", HTTP_HX_REQUEST="true").status_code == 204
    assert status(dish) == "cooking"
    assert screen.post("/kitchen/recall/", HTTP_HX_REQUEST="true").status_code == 204
    assert status(dish) == "queued"
    assert screen.post("/kitchen/recall/", HTTP_HX_REQUEST="true").status_code == 400
    other_screen = logged_in(cook)
    assert other_screen.post("/kitchen/recall/", HTTP_HX_REQUEST="true").status_code == 400


def test_recall_of_a_line_someone_else_moved_since_changes_nothing(cook, table, menu):
    dish = order(table, line(menu["cucumber"])).lines.get()
    screen = logged_in(cook)
    screen.post(f"/kitchen/lines/{dish.pk}/bump/", HTTP_HX_REQUEST="true")  # cooking
    services.line_set_status(line_id=dish.pk, status=OrderLine.Status.READY)  # another screen
    assert screen.post("/kitchen/recall/", HTTP_HX_REQUEST="true").status_code == 409
    assert status(dish) == "ready"


def test_a_held_dish_waits_until_staff_fire_it(cook, cashier, table, menu):
    phone = Client()
    phone.post(
        f"/t/{table.token}/cart/",
        {"dish": menu["cucumber"].pk, "hold": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert CartItem.objects.get().held
    tab = Tab.objects.get()
    phone.post(
        f"/t/{table.token}/submit/",
        {"cart_version": tab.cart_version, "guests": 2},
        HTTP_HX_REQUEST="true",
    )
    dish = OrderLine.objects.get()
    assert dish.status == "held"
    board = logged_in(cook).get("/kitchen/").content.decode()
    assert "拍黄瓜" in board and "bump fire" in board
    # A diner cannot fire it; the cashier can.
    assert phone.post(f"/kitchen/lines/{dish.pk}/status/", {"status": "queued"}).status_code == 302
    response = logged_in(cashier).post(
        f"/kitchen/lines/{dish.pk}/status/",
        {"status": "queued", "expect": "held"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and status(dish) == "queued"


def test_a_diner_hurries_a_waiting_dish_once_per_interval(cook, table, other_table, menu):
    dish = order(table, line(menu["cucumber"])).lines.get()
    phone = Client()
    url = f"/t/{table.token}/lines/{dish.pk}/urge/"
    assert phone.post(url, HTTP_HX_REQUEST="true").status_code == 200
    assert phone.post(url, HTTP_HX_REQUEST="true").status_code == 400  # too soon
    dish.refresh_from_db()
    assert dish.urge_count == 1
    assert TabEvent.objects.filter(line=dish, kind="line.urged").count() == 1
    board = logged_in(cook).get("/kitchen/").content.decode()
    assert "urge-badge" in board and 'data-urges="1"' in board
    # After the interval it may be hurried again.
    OrderLine.objects.filter(pk=dish.pk).update(urged_at=timezone.now() - timedelta(minutes=10))
    assert phone.post(url, HTTP_HX_REQUEST="true").status_code == 200
    # Another table's token cannot hurry it.
    assert (
        Client()
        .post(f"/t/{other_table.token}/lines/{dish.pk}/urge/", HTTP_HX_REQUEST="true")
        .status_code
        == 404
    )


def test_a_ready_dish_cannot_be_hurried(table, menu):
    dish = order(table, line(menu["cucumber"])).lines.get()
    services.line_set_status(line_id=dish.pk, status=OrderLine.Status.READY)
    assert (
        Client().post(f"/t/{table.token}/lines/{dish.pk}/urge/", HTTP_HX_REQUEST="true").status_code
        == 409
    )


def test_a_cashier_voids_a_dish_with_a_reason_and_its_stock_comes_back(cashier, cook, table, menu):
    dish = order(table, line(menu["fish"], quantity=2)).lines.get()
    menu["fish"].refresh_from_db()
    assert menu["fish"].stock == 3
    version = Tab.objects.get().version
    assert logged_in(cook).post(f"/staff/lines/{dish.pk}/void/", {"reason": "x"}).status_code == 403
    assert (
        logged_in(cashier)
        .post(f"/staff/lines/{dish.pk}/void/", {"reason": ""}, HTTP_HX_REQUEST="true")
        .status_code
        == 400
    )
    assert status(dish) == "queued"
    response = logged_in(cashier).post(
        f"/staff/lines/{dish.pk}/void/", {"reason": "客人改主意"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert status(dish) == "voided"
    menu["fish"].refresh_from_db()
    assert menu["fish"].stock == 5
    assert Tab.objects.get().version == version + 1
    event = TabEvent.objects.get(line=dish, kind="line.voided")
    assert (event.reason, event.user) == ("客人改主意", cashier)
    html = Client().get(f"/t/{table.token}/").content.decode()
    assert "status-voided" in html


def test_a_dish_already_cooking_keeps_its_stock_when_voided(table, menu):
    dish = order(table, line(menu["fish"])).lines.get()
    services.line_set_status(line_id=dish.pk, status=OrderLine.Status.COOKING)
    services.line_void(line_id=dish.pk, reason="做坏了")
    menu["fish"].refresh_from_db()
    assert menu["fish"].stock == 4


def test_the_kitchen_marks_a_dish_sold_out_and_sets_portions_left(cook, table, menu):
    screen = logged_in(cook)
    version = MenuState.current()
    response = screen.post(
        "/kitchen/stock/", {"dish": menu["cucumber"].pk, "sold_out": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    menu["cucumber"].refresh_from_db()
    assert menu["cucumber"].sold_out and MenuState.current() != version
    phone_menu = Client().get(f"/t/{table.token}/").content.decode()
    card = phone_menu.split(f'id="dish-{menu["cucumber"].pk}"')[1].split("</article>")[0]
    assert "cart/" not in card
    screen.post(
        "/kitchen/stock/", {"dish": menu["chicken"].pk, "stock": "3"}, HTTP_HX_REQUEST="true"
    )
    menu["chicken"].refresh_from_db()
    assert menu["chicken"].stock == 3
    assert (
        screen.post(
            "/kitchen/stock/", {"dish": menu["chicken"].pk, "stock": "abc"}, HTTP_HX_REQUEST="true"
        ).status_code
        == 400
    )
    menu["chicken"].refresh_from_db()
    assert menu["chicken"].stock == 3
    screen.post(
        "/kitchen/stock/", {"dish": menu["chicken"].pk, "stock": ""}, HTTP_HX_REQUEST="true"
    )
    menu["chicken"].refresh_from_db()
    assert menu["chicken"].stock is None


def test_a_cart_holding_a_sold_out_dish_warns_and_the_order_is_refused(cook, table, menu):
    phone = Client()
    phone.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk}, HTTP_HX_REQUEST="true")
    logged_in(cook).post(
        "/kitchen/stock/", {"dish": menu["cucumber"].pk, "sold_out": "1"}, HTTP_HX_REQUEST="true"
    )
    page = phone.get(f"/t/{table.token}/").content.decode()
    assert 'class="warning"' in page.split('id="cart"')[1]
    tab = Tab.objects.get()
    response = phone.post(
        f"/t/{table.token}/submit/",
        {"cart_version": tab.cart_version, "guests": 2},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409 and not OrderLine.objects.exists()


def test_the_pass_groups_ready_dishes_by_table_and_marks_them_served(
    cook, table, other_table, menu
):
    first = order(table, line(menu["cucumber"]), line(menu["fish"]), key="a")
    second = order(other_table, line(menu["cucumber"]), key="b")
    for dish in [*first.lines.all(), *second.lines.all()]:
        services.line_set_status(line_id=dish.pk, status=OrderLine.Status.READY)
    rows = selectors.pass_tables()
    assert [(row["table"].code, len(row["lines"])) for row in rows] == [("A1", 2), ("A2", 1)]
    page = logged_in(cook).get("/kitchen/pass/").content.decode()
    assert page.count('class="ticket pass-table"') == 2
    dish = second.lines.get()
    response = logged_in(cook).post(
        f"/kitchen/lines/{dish.pk}/status/",
        {"status": "served", "expect": "ready"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and status(dish) == "served"
    assert [row["table"].code for row in selectors.pass_tables()] == ["A1"]


def test_a_done_ticket_can_be_brought_back_from_the_last_hour(cook, table, menu):
    dish = order(table, line(menu["cucumber"])).lines.get()
    services.line_set_status(line_id=dish.pk, status=OrderLine.Status.READY)
    screen = logged_in(cook)
    assert "拍黄瓜" in screen.get("/kitchen/done/").content.decode()
    screen.post(
        f"/kitchen/lines/{dish.pk}/status/",
        {"status": "cooking", "expect": "ready"},
        HTTP_HX_REQUEST="true",
    )
    assert status(dish) == "cooking"
    assert "拍黄瓜" in screen.get("/kitchen/").content.decode()


def test_the_board_counts_waiting_dishes_and_the_average_time_to_ready(cook, table, menu):
    placed = order(
        table,
        line(menu["cucumber"]),
        line(menu["fish"]),
        line(menu["chicken"], options=[menu["mild"].pk]),
    )
    cucumber = placed.lines.get(name="拍黄瓜")
    services.line_set_status(line_id=cucumber.pk, status=OrderLine.Status.READY)
    stats = {row["station"].slug: row for row in selectors.kitchen_stats()}
    assert stats["hot"]["waiting"] == 2 and stats["cold"]["waiting"] == 0
    assert stats["cold"]["average_minutes"] == 0 and stats["hot"]["average_minutes"] is None


def test_board_queries_do_not_grow_with_the_number_of_tickets(
    cook, table, menu, django_assert_max_num_queries, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as queries:
            selectors.board_view()
        return len(queries)

    settings.MAX_ORDERS_PER_MINUTE = 100  # thirty tickets at one table: a count, not a limit
    order(table, line(menu["cucumber"]), key="first")
    few = count()
    for n in range(30):
        order(
            table,
            line(menu["cucumber"]),
            line(menu["fish"] if n < 3 else menu["cucumber"]),
            key=f"k{n}",
        )
    assert count() == few


# The staff API ---------------------------------------------------------------------------------


def bearer(role):
    _device, raw = DeviceToken.issue(name=f"{role} tablet", role=role)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_kitchen_device_reads_tickets_and_moves_dishes_with_the_screens_rules(table, menu):
    placed = order(table, line(menu["cucumber"]), line(menu["fish"]))
    kitchen = bearer("kitchen")
    tickets = Client().get("/api/v1/kitchen/tickets?station=cold", **kitchen).json()
    assert [(t["table"], [ln["name"] for ln in t["lines"]]) for t in tickets] == [
        ("A1", ["拍黄瓜"])
    ]
    dish = placed.lines.get(name="拍黄瓜")
    url = f"/api/v1/kitchen/lines/{dish.pk}/status"
    moved = Client().post(url, {"status": "cooking"}, content_type="application/json", **kitchen)
    assert moved.status_code == 200 and moved.json()["status"] == "cooking"
    illegal = Client().post(url, {"status": "served"}, content_type="application/json", **kitchen)
    assert illegal.status_code == 409 and illegal.json()["error"] == "illegal_transition"
    stale = Client().post(
        url, {"status": "ready", "expect": "queued"}, content_type="application/json", **kitchen
    )
    assert stale.status_code == 409 and status(dish) == "cooking"


def test_the_staff_api_refuses_missing_wrong_or_underpowered_tokens(table, menu):
    dish = order(table, line(menu["cucumber"])).lines.get()
    url = f"/api/v1/kitchen/lines/{dish.pk}/status"
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}, bearer("cashier")):
        response = Client().post(
            url, {"status": "cooking"}, content_type="application/json", **headers
        )
        assert response.status_code == 401
    assert status(dish) == "queued"
    device, raw = DeviceToken.issue(name="old", role="kitchen")
    DeviceToken.objects.filter(pk=device.pk).update(active=False)
    response = Client().get("/api/v1/kitchen/tickets", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_a_cashier_device_voids_and_a_kitchen_device_sets_sold_out(table, menu):
    dish = order(table, line(menu["fish"])).lines.get()
    response = Client().post(
        f"/api/v1/lines/{dish.pk}/void",
        {"reason": "上错了"},
        content_type="application/json",
        **bearer("cashier"),
    )
    assert response.status_code == 200 and status(dish) == "voided"
    response = Client().post(
        f"/api/v1/kitchen/dishes/{menu['fish'].pk}/availability",
        {"stock": 2},
        content_type="application/json",
        **bearer("kitchen"),
    )
    assert response.json() == {
        "id": menu["fish"].pk,
        "available": True,
        "sold_out": False,
        "stock": 2,
    }
    response = Client().post(
        f"/api/v1/kitchen/dishes/{menu['fish'].pk}/availability",
        {"stock": -1},
        content_type="application/json",
        **bearer("kitchen"),
    )
    assert response.status_code == 400
    menu["fish"].refresh_from_db()
    assert menu["fish"].stock == 2


def test_a_diner_hurries_a_dish_through_the_api(table, menu):
    dish = order(table, line(menu["cucumber"])).lines.get()
    response = Client().post(f"/api/v1/tables/{table.token}/lines/{dish.pk}/urge")
    assert response.status_code == 200 and response.json()["urge_count"] == 1
    again = Client().post(f"/api/v1/tables/{table.token}/lines/{dish.pk}/urge")
    assert again.status_code == 400 and again.json()["error"] == "urged_recently"


def test_a_waiter_orders_for_a_table_from_a_tablet_with_the_same_rules(cashier, table, menu):
    tablet = logged_in(cashier)
    assert table.code in tablet.get("/staff/tables/").content.decode()
    page = tablet.get(f"/t/{table.token}/").content.decode()
    assert '<body class="diner is-staff"' in page  # the stylesheet inlined names the class too
    tablet.post(
        f"/t/{table.token}/cart/", {"dish": menu["fish"].pk, "quantity": 9}, HTTP_HX_REQUEST="true"
    )
    tab = Tab.objects.get()
    refused = tablet.post(
        f"/t/{table.token}/submit/",
        {"cart_version": tab.cart_version, "guests": 2},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 409  # only 5 left: the same stock rule as for diners
    CartItem.objects.update(quantity=2)
    tab.refresh_from_db()
    tablet.post(
        f"/t/{table.token}/submit/",
        {"cart_version": tab.cart_version, "guests": 2},
        HTTP_HX_REQUEST="true",
    )
    placed = tab.orders.get()
    assert placed.user == cashier
    assert '<body class="diner"' in Client().get(f"/t/{table.token}/").content.decode()
