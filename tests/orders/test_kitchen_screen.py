"""The first kitchen screen: staff only, every open ticket oldest first, a line can be marked done."""

import threading

import pytest
from django.db import connection
from django.test import Client

from orders import services
from orders.models import OrderLine, TabEvent
from restaurant.lib.errors import Refused

pytestmark = pytest.mark.django_db


def order(table, *lines, key="k1", guests=2):
    tab = services.tab_for_table(table=table)
    created, _ = services.order_submit(tab=tab, key=key, guests=guests, lines=list(lines))
    return created


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_login(db):
    response = Client().get("/kitchen/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_staff_without_the_kitchen_role_are_refused(outsider, cashier):
    assert logged_in(outsider).get("/kitchen/").status_code == 403
    assert logged_in(cashier).get("/kitchen/").status_code == 403


def test_a_diner_with_a_table_cookie_is_refused(table, menu):
    phone = Client()
    phone.get(f"/t/{table.token}/")
    assert phone.get("/kitchen/").status_code == 302


def test_the_board_shows_open_tickets_oldest_first_with_options_and_notes(
    cook, manager, table, other_table, menu
):
    order(
        table, services.LineRequest(dish=menu["cucumber"].pk, quantity=2, note="不要香菜"), key="a"
    )
    order(
        other_table,
        services.LineRequest(dish=menu["chicken"].pk, options=[menu["hot"].pk, menu["rice"].pk]),
        key="b",
    )
    for user in (cook, manager):
        html = logged_in(user).get("/kitchen/").content.decode()
        assert html.index("拍黄瓜") < html.index("宫保鸡丁")
        assert "不要香菜" in html and "特辣" in html and "加饭" in html
        assert ">A1<" in html and ">A2<" in html


def test_tapping_a_line_moves_it_on_and_records_who_and_a_done_ticket_leaves(cook, table, menu):
    placed = order(table, services.LineRequest(dish=menu["cucumber"].pk))
    line = placed.lines.get()
    client = logged_in(cook)
    for expected in ("cooking", "ready"):
        response = client.post(f"/kitchen/lines/{line.pk}/bump/", HTTP_HX_REQUEST="true")
        assert response.status_code == 204
        line.refresh_from_db()
        assert line.status == expected
    moves = list(TabEvent.objects.filter(line=line).values_list("from_status", "to_status", "user"))
    assert moves == [("queued", "cooking", cook.pk), ("cooking", "ready", cook.pk)]
    assert "拍黄瓜" not in client.get("/kitchen/").content.decode()


def test_an_illegal_move_is_refused_and_changes_nothing(cook, table, menu):
    line = order(table, services.LineRequest(dish=menu["cucumber"].pk)).lines.get()
    client = logged_in(cook)
    response = client.post(
        f"/kitchen/lines/{line.pk}/status/", {"status": "served"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "#flash" == response["HX-Retarget"]
    line.refresh_from_db()
    assert line.status == OrderLine.Status.QUEUED
    assert not TabEvent.objects.filter(line=line).exists()


@pytest.mark.django_db(transaction=True)
def test_two_screens_bumping_the_same_line_at_once_move_it_once(cook, table, menu):
    line = order(table, services.LineRequest(dish=menu["cucumber"].pk)).lines.get()
    barrier = threading.Barrier(2)
    outcomes = []

    def bump():
        barrier.wait()
        try:
            services.line_set_status(line_id=line.pk, status=OrderLine.Status.READY, user=cook)
            outcomes.append("moved")
        except Refused as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (
        sorted(outcomes)[0] in ("illegal_transition", "line_moved")
        and sorted(outcomes)[1] == "moved"
    )
    assert TabEvent.objects.filter(line=line, kind="line.status").count() == 1


def test_a_line_of_an_unknown_status_is_a_clear_error(cook, table, menu):
    line = order(table, services.LineRequest(dish=menu["cucumber"].pk)).lines.get()
    response = logged_in(cook).post(
        f"/kitchen/lines/{line.pk}/status/", {"status": "eaten"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
