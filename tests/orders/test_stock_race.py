"""Many phones racing for the last portions over the API, on PostgreSQL with real threads.

Each thread is its own client with its own database connection; a barrier starts them together.
"""

import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client

from menu.models import Dish
from orders.models import Order, OrderLine, Table

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("needs_postgres")]


def race(posts):
    """Run every (url, body) at the same moment; returns each answer as (status, json)."""
    barrier = threading.Barrier(len(posts))
    answers = [None] * len(posts)

    def post(index, url, body):
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(url, body, content_type="application/json")
            answers[index] = (response.status_code, response.json())
        except Exception as error:  # reported by the assertions below
            answers[index] = (None, repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, args=(i, url, body)) for i, (url, body) in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return answers


def order_body(key, dish, quantity=1):
    return {"key": key, "guests": 2, "lines": [{"dish": dish.pk, "quantity": quantity}]}


def tables(count):
    return [Table.objects.create(code=f"R{n}", area="大厅") for n in range(count)]


def check_no_oversell(answers, dish, portions, orders_expected, left_for_losers=0):
    created = [body for status, body in answers if status == 201]
    refused = [body for status, body in answers if status == 409]
    assert len(created) == orders_expected, answers
    assert len(refused) == len(answers) - orders_expected, answers
    for body in refused:
        assert body["error"] == "out_of_stock"
        assert body["dishes"] == [{"dish": dish.pk, "name": dish.name, "left": left_for_losers}]
    dish.refresh_from_db()
    assert dish.stock == left_for_losers
    assert Order.objects.count() == orders_expected
    assert OrderLine.objects.aggregate(total=Sum("quantity"))["total"] == portions
    assert sorted(body["id"] for body in created) == sorted(
        Order.objects.values_list("pk", flat=True)
    )


def test_fifty_tables_racing_for_five_portions_get_exactly_five(menu):
    fish = menu["fish"]
    posts = [
        (f"/api/v1/tables/{t.token}/orders", order_body(f"key-{t.pk}", fish)) for t in tables(50)
    ]

    answers = race(posts)

    check_no_oversell(answers, fish, portions=5, orders_expected=5)


def test_fifty_phones_at_one_table_racing_for_five_portions_get_exactly_five(menu, table):
    fish = menu["fish"]
    url = f"/api/v1/tables/{table.token}/orders"
    posts = [(url, order_body(f"phone-{n}", fish)) for n in range(50)]

    answers = race(posts)

    check_no_oversell(answers, fish, portions=5, orders_expected=5)
    assert sorted(Order.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert table.tabs.count() == 1


def test_racing_for_two_portions_each_leaves_the_odd_one_and_says_so(menu):
    fish = menu["fish"]
    posts = [
        (f"/api/v1/tables/{t.token}/orders", order_body(f"key-{t.pk}", fish, 2)) for t in tables(25)
    ]

    answers = race(posts)

    check_no_oversell(answers, fish, portions=4, orders_expected=2, left_for_losers=1)


def test_twenty_taps_with_the_same_key_make_one_order_and_take_stock_once(menu, table):
    fish = menu["fish"]
    url = f"/api/v1/tables/{table.token}/orders"
    posts = [(url, order_body("double-tap", fish))] * 20

    answers = race(posts)

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * 19 + [201], answers
    assert len({body["id"] for _status, body in answers}) == 1
    assert Order.objects.count() == 1
    assert OrderLine.objects.get().quantity == 1
    assert Dish.objects.get(pk=fish.pk).stock == 4
