"""POST /api/v1/tables/<token>/orders and GET /api/v1/tables/<token>/tab."""

from decimal import Decimal

import pytest

from menu.models import Dish, Option
from orders import services
from orders.models import Order, OrderLine, Tab, TabEvent

pytestmark = pytest.mark.django_db


def order_url(table):
    return f"/api/v1/tables/{table.token}/orders"


def tab_url(table):
    return f"/api/v1/tables/{table.token}/tab"


def post_order(client, table, body):
    return client.post(order_url(table), body, content_type="application/json")


def stock(dish):
    return Dish.objects.values_list("stock", flat=True).get(pk=dish.pk)


def test_an_order_is_priced_from_the_database_whatever_the_body_says(client, menu, table):
    body = {
        "key": "k1",
        "guests": 2,
        "total": "0.01",
        "lines": [
            {
                "dish": menu["cucumber"].pk,
                "quantity": 2,
                "price": "0.01",
                "unit_price": "0.01",
                "amount": "0.02",
                "name": "免费黄瓜",
            }
        ],
    }

    response = post_order(client, table, body)

    assert response.status_code == 201
    answer = response.json()
    (line,) = answer["lines"]
    assert (line["name"], line["unit_price"], line["amount"], line["quantity"]) == (
        "拍黄瓜",
        "12.00",
        "24.00",
        2,
    )
    assert (line["dish"], line["status"], line["options"], line["note"]) == (
        menu["cucumber"].pk,
        "queued",
        [],
        "",
    )
    assert answer["number"] == 1
    assert answer["key"] == "k1"
    assert answer["awaiting_payment"] is False
    saved = OrderLine.objects.get(pk=line["id"])
    assert (saved.name, saved.unit_price, saved.amount) == (
        "拍黄瓜",
        Decimal("12.00"),
        Decimal("24.00"),
    )
    order = Order.objects.get(pk=answer["id"])
    assert order.tab_id == answer["tab"]
    tab = Tab.objects.get(pk=answer["tab"])
    assert (tab.table_id, tab.guests, tab.status) == (table.pk, 2, "open")


def test_options_add_their_surcharges_and_are_named_on_the_line(client, menu, table):
    body = {
        "key": "k1",
        "guests": 3,
        "lines": [
            {
                "dish": menu["chicken"].pk,
                "quantity": 2,
                "options": [menu["mild"].pk, menu["peanuts"].pk, menu["rice"].pk],
                "note": "少放油",
            }
        ],
    }

    response = post_order(client, table, body)

    assert response.status_code == 201
    (line,) = response.json()["lines"]
    assert line["unit_price"] == "43.00"  # 38 + 3 peanuts + 2 rice
    assert line["amount"] == "86.00"
    assert line["options"] == ["微辣", "加花生", "加饭"]
    assert line["note"] == "少放油"
    saved = OrderLine.objects.get(pk=line["id"])
    assert saved.option_ids == [menu["mild"].pk, menu["peanuts"].pk, menu["rice"].pk]
    assert saved.station_id == menu["hot_station"].pk


def test_ordered_lines_keep_their_name_price_and_options_after_the_menu_changes(
    client, menu, table
):
    body = {
        "key": "k1",
        "guests": 2,
        "lines": [
            {
                "dish": menu["chicken"].pk,
                "quantity": 1,
                "options": [menu["hot"].pk, menu["peanuts"].pk],
            }
        ],
    }
    line_id = post_order(client, table, body).json()["lines"][0]["id"]

    chicken = menu["chicken"]
    chicken.name, chicken.price = "宫保虾球", Decimal("58.00")
    chicken.save()
    Option.objects.filter(pk=menu["peanuts"].pk).update(name="加腰果", price=Decimal("8.00"))

    saved = OrderLine.objects.get(pk=line_id)
    assert (saved.name, saved.unit_price, saved.amount) == (
        "宫保鸡丁",
        Decimal("41.00"),
        Decimal("41.00"),
    )
    assert saved.options == ["特辣", "加花生"]
    (order,) = client.get(tab_url(table)).json()["tab"]["orders"]
    assert order["lines"][0]["name"] == "宫保鸡丁"
    assert order["lines"][0]["unit_price"] == "41.00"
    assert order["lines"][0]["options"] == ["特辣", "加花生"]


def test_the_same_key_twice_makes_one_order_and_takes_the_stock_once(client, menu, table):
    body = {"key": "tap-1", "guests": 2, "lines": [{"dish": menu["fish"].pk, "quantity": 2}]}

    first = post_order(client, table, body)
    again = post_order(client, table, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert stock(menu["fish"]) == 3
    assert Tab.objects.get().version == 2
    assert TabEvent.objects.filter(kind="order.submitted").count() == 1


def test_the_same_key_with_other_lines_still_answers_the_first_order(client, menu, table):
    post_order(
        client,
        table,
        {"key": "tap-1", "guests": 2, "lines": [{"dish": menu["fish"].pk, "quantity": 1}]},
    )

    replay = post_order(
        client, table, {"key": "tap-1", "lines": [{"dish": menu["fish"].pk, "quantity": 4}]}
    )

    assert replay.status_code == 200
    assert replay.json()["lines"][0]["quantity"] == 1
    assert stock(menu["fish"]) == 4


def test_a_later_order_with_a_new_key_is_the_next_round_and_needs_no_guests(client, menu, table):
    post_order(client, table, {"key": "k1", "guests": 2, "lines": [{"dish": menu["cucumber"].pk}]})

    response = post_order(
        client, table, {"key": "k2", "lines": [{"dish": menu["fish"].pk, "quantity": 1}]}
    )

    assert response.status_code == 201
    assert response.json()["number"] == 2
    assert Order.objects.count() == 2
    assert Tab.objects.count() == 1
    assert Tab.objects.get().guests == 2
    assert stock(menu["fish"]) == 4


def test_in_a_pay_first_shop_a_new_order_waits_for_its_payment(client, menu, table, settings):
    settings.SERVICE_FLOW = "pay_first"

    response = post_order(
        client, table, {"key": "k1", "guests": 1, "lines": [{"dish": menu["fish"].pk}]}
    )

    assert response.status_code == 201
    assert response.json()["awaiting_payment"] is True
    assert Order.objects.get().awaiting_payment is True
    assert stock(menu["fish"]) == 4


def test_the_first_order_without_guests_is_refused_and_changes_nothing(client, menu, table):
    response = post_order(
        client, table, {"key": "k1", "lines": [{"dish": menu["fish"].pk, "quantity": 1}]}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "guests_required"
    assert response.json()["message"]
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert Tab.objects.count() == 0
    assert stock(menu["fish"]) == 5


def test_an_unknown_token_answers_404_and_opens_no_tab(client, menu, table):
    body = {"key": "k1", "guests": 2, "lines": [{"dish": menu["cucumber"].pk}]}

    posted = client.post("/api/v1/tables/not-a-token/orders", body, content_type="application/json")
    read = client.get("/api/v1/tables/not-a-token/tab")

    for response in (posted, read):
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert response.json()["message"]
    assert Tab.objects.count() == 0
    assert Order.objects.count() == 0


def test_an_old_token_stops_working_once_the_table_token_is_rotated(client, menu, table):
    old_url = order_url(table)
    table.rotate_token()

    response = client.post(
        old_url,
        {"key": "k1", "guests": 2, "lines": [{"dish": menu["cucumber"].pk}]},
        content_type="application/json",
    )

    assert response.status_code == 404
    assert (
        post_order(
            client, table, {"key": "k1", "guests": 2, "lines": [{"dish": menu["cucumber"].pk}]}
        ).status_code
        == 201
    )
    assert Order.objects.count() == 1


def test_a_table_taken_out_of_use_answers_404(client, menu, table):
    table.active = False
    table.save()

    response = post_order(
        client, table, {"key": "k1", "guests": 2, "lines": [{"dish": menu["cucumber"].pk}]}
    )

    assert response.status_code == 404
    assert Order.objects.count() == 0


def test_a_tab_being_settled_takes_no_more_orders(client, menu, table):
    Tab.objects.create(table=table, guests=2, status=Tab.Status.SETTLING)

    response = post_order(
        client, table, {"key": "k1", "lines": [{"dish": menu["fish"].pk, "quantity": 1}]}
    )

    assert response.status_code == 409
    assert response.json()["error"] == "tab_closed"
    assert Order.objects.count() == 0
    assert stock(menu["fish"]) == 5


def test_ordering_more_after_paying_opens_the_tab_again(client, menu, table):
    tab = Tab.objects.create(table=table, guests=2, status=Tab.Status.SETTLED)

    response = post_order(
        client, table, {"key": "dessert", "lines": [{"dish": menu["cucumber"].pk, "quantity": 1}]}
    )

    assert response.status_code == 201
    tab.refresh_from_db()
    assert tab.status == Tab.Status.OPEN
    assert tab.events.filter(kind="tab.status", from_status="settled", to_status="open").exists()


def test_the_tab_shows_each_round_its_dish_statuses_and_the_total_without_voided_dishes(
    client, menu, table
):
    post_order(
        client,
        table,
        {
            "key": "k1",
            "guests": 4,
            "lines": [
                {"dish": menu["cucumber"].pk, "quantity": 1},
                {
                    "dish": menu["chicken"].pk,
                    "quantity": 2,
                    "options": [menu["mild"].pk, menu["peanuts"].pk],
                },
            ],
        },
    )
    post_order(client, table, {"key": "k2", "lines": [{"dish": menu["fish"].pk, "quantity": 1}]})
    cucumber, chicken, fish = OrderLine.objects.order_by("id")
    services.line_set_status(line_id=cucumber.pk, status=OrderLine.Status.COOKING)
    services.line_set_status(line_id=cucumber.pk, status=OrderLine.Status.READY)
    services.line_set_status(line_id=chicken.pk, status=OrderLine.Status.COOKING)
    services.line_void(line_id=fish.pk, reason="客人不要了")

    response = client.get(tab_url(table))

    assert response.status_code == 200
    body = response.json()
    assert body["table"] == {"code": "A1", "name": "大厅 A1"}
    tab = body["tab"]
    assert tab["id"] == Tab.objects.get().pk
    assert (tab["status"], tab["guests"], tab["version"]) == ("open", 4, 4)  # two orders and a void
    assert [order["number"] for order in tab["orders"]] == [1, 2]
    statuses = [
        (line["name"], line["status"]) for order in tab["orders"] for line in order["lines"]
    ]
    assert statuses == [("拍黄瓜", "ready"), ("宫保鸡丁", "cooking"), ("清蒸鲈鱼", "voided")]
    assert tab["total"] == "94.00"  # 12 + 2 × 41; the voided fish is not owed


def test_a_table_with_nobody_seated_has_no_tab_and_reading_it_opens_none(client, menu, table):
    response = client.get(tab_url(table))

    assert response.status_code == 200
    assert response.json() == {"table": {"code": "A1", "name": "大厅 A1"}, "tab": None}
    assert Tab.objects.count() == 0


def test_a_new_tab_with_no_orders_has_a_zero_total(client, menu, table):
    services.tab_for_table(table=table)

    tab = client.get(tab_url(table)).json()["tab"]

    assert (tab["orders"], tab["total"], tab["guests"]) == ([], "0.00", None)
