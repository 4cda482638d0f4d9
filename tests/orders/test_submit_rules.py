"""Bad orders over the API: each gets a clear 4xx answer and changes nothing at all."""

import json

import pytest

from menu.models import Category, Dish, MenuState, Option
from orders.models import Order, OrderLine, Tab, TabEvent

pytestmark = pytest.mark.django_db


def order_url(table):
    return f"/api/v1/tables/{table.token}/orders"


def good_line(menu, **changes):
    return {"dish": menu["cucumber"].pk, "quantity": 1, **changes}


def body_with(menu, **line):
    return {"key": "k1", "guests": 2, "lines": [good_line(menu, **line)]}


def snapshot():
    """Everything an order could change."""
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "tabs": Tab.objects.count(),
        "events": TabEvent.objects.count(),
        "stock": dict(Dish.objects.values_list("pk", "stock")),
        "menu_version": MenuState.current(),
    }


# (case, how to make the body from the menu, expected status, expected error code)
REFUSALS = [
    ("unknown dish", lambda m: body_with(m, dish=999_999), 400, "unknown_dish"),
    ("absurd dish id", lambda m: body_with(m, dish=10**30), 400, "unknown_dish"),
    ("dish as a string", lambda m: body_with(m, dish=str(m["cucumber"].pk)), 400, "invalid"),
    ("quantity 0", lambda m: body_with(m, quantity=0), 400, "bad_quantity"),
    ("negative quantity", lambda m: body_with(m, quantity=-2), 400, "bad_quantity"),
    ("quantity 10000", lambda m: body_with(m, quantity=10_000), 400, "bad_quantity"),
    ("fractional quantity", lambda m: body_with(m, quantity=1.5), 400, "invalid"),
    ("quantity in words", lambda m: body_with(m, quantity="two"), 400, "invalid"),
    ("quantity true", lambda m: body_with(m, quantity=True), 400, "invalid"),
    ("quantity null", lambda m: body_with(m, quantity=None), 400, "invalid"),
    (
        "missing required option",
        lambda m: body_with(m, dish=m["chicken"].pk, options=[m["peanuts"].pk]),
        400,
        "missing_option",
    ),
    ("option of another dish", lambda m: body_with(m, options=[m["mild"].pk]), 400, "bad_options"),
    (
        "the same option twice",
        lambda m: body_with(m, dish=m["chicken"].pk, options=[m["mild"].pk, m["mild"].pk]),
        400,
        "bad_options",
    ),
    (
        "two choices of a single-choice group",
        lambda m: body_with(m, dish=m["chicken"].pk, options=[m["mild"].pk, m["hot"].pk]),
        400,
        "too_many_options",
    ),
    ("options not a list", lambda m: body_with(m, options=m["mild"].pk), 400, "invalid"),
    ("option ids as text", lambda m: body_with(m, options=["微辣"]), 400, "invalid"),
    ("a note of 10 KB", lambda m: body_with(m, note="辣" * 10_240), 400, "bad_note"),
    ("a note that is not text", lambda m: body_with(m, note={"spicy": True}), 400, "invalid"),
    (
        "lines not a list",
        lambda m: {"key": "k1", "guests": 2, "lines": good_line(m)},
        400,
        "invalid",
    ),
    ("lines missing", lambda m: {"key": "k1", "guests": 2}, 400, "invalid"),
    ("an empty lines list", lambda m: {"key": "k1", "guests": 2, "lines": []}, 400, "empty"),
    (
        "too many lines",
        lambda m: {"key": "k1", "guests": 2, "lines": [good_line(m)] * 101},
        400,
        "too_many_lines",
    ),
    (
        "a line that is not an object",
        lambda m: {"key": "k1", "guests": 2, "lines": [7]},
        400,
        "invalid",
    ),
    ("key missing", lambda m: {"guests": 2, "lines": [good_line(m)]}, 400, "invalid"),
    ("blank key", lambda m: {"key": "  ", "guests": 2, "lines": [good_line(m)]}, 400, "bad_key"),
    (
        "key too long",
        lambda m: {"key": "k" * 65, "guests": 2, "lines": [good_line(m)]},
        400,
        "bad_key",
    ),
    (
        "zero guests",
        lambda m: {"key": "k1", "guests": 0, "lines": [good_line(m)]},
        400,
        "bad_guests",
    ),
    (
        "a crowd of guests",
        lambda m: {"key": "k1", "guests": 5000, "lines": [good_line(m)]},
        400,
        "bad_guests",
    ),
    (
        "guests in words",
        lambda m: {"key": "k1", "guests": "two", "lines": [good_line(m)]},
        400,
        "invalid",
    ),
    ("a JSON list as the body", lambda m: [good_line(m)], 400, "invalid"),
    (
        "a good line and a bad one",
        lambda m: {
            "key": "k1",
            "guests": 2,
            "lines": [{"dish": m["fish"].pk, "quantity": 2}, good_line(m, quantity=0)],
        },
        400,
        "bad_quantity",
    ),
]


@pytest.mark.parametrize(
    ("make_body", "status", "code"),
    [pytest.param(make, status, code, id=case) for case, make, status, code in REFUSALS],
)
def test_a_bad_order_gets_a_clear_answer_and_changes_nothing(
    client, menu, table, make_body, status, code
):
    before = snapshot()

    response = client.post(order_url(table), make_body(menu), content_type="application/json")

    assert response.status_code == status
    answer = response.json()
    assert answer["error"] == code
    assert isinstance(answer["message"], str) and answer["message"]
    if code == "invalid":
        assert answer["detail"]
    assert snapshot() == before


def test_an_invalid_answer_says_which_field_is_wrong(client, menu, table):
    response = client.post(
        order_url(table), body_with(menu, quantity="two"), content_type="application/json"
    )

    assert response.status_code == 400
    assert "lines.0.quantity" in response.json()["message"]
    assert response.json()["detail"][0]["loc"][-3:] == ["lines", 0, "quantity"]


@pytest.mark.parametrize("raw", ["not json", '{"key": "k1", "lines": [', "", "\x00\xff"])
def test_a_body_that_is_not_json_gets_400_and_changes_nothing(client, menu, table, raw):
    before = snapshot()

    response = client.post(order_url(table), raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert response.json()["message"]
    assert snapshot() == before


def test_a_body_too_large_to_read_is_refused_and_changes_nothing(client, menu, table, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = snapshot()
    body = json.dumps(body_with(menu, note="x" * 20_000))

    response = client.post(order_url(table), body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"] == "too_big"
    assert snapshot() == before


def test_a_token_that_does_not_exist_gets_404_and_changes_nothing(client, menu, table):
    before = snapshot()

    response = client.post(
        "/api/v1/tables/no-such-table/orders", body_with(menu), content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert snapshot() == before


def test_a_dish_off_the_menu_cannot_be_ordered(client, menu, table):
    Dish.objects.filter(pk=menu["fish"].pk).update(active=False)
    before = snapshot()

    response = client.post(
        order_url(table), body_with(menu, dish=menu["fish"].pk), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unknown_dish"
    assert snapshot() == before


def test_a_dish_of_an_inactive_category_cannot_be_ordered(client, menu, table):
    Category.objects.filter(pk=menu["cucumber"].category_id).update(active=False)
    before = snapshot()

    response = client.post(order_url(table), body_with(menu), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "unknown_dish"
    assert snapshot() == before


def test_an_option_no_longer_available_cannot_be_chosen(client, menu, table):
    Option.objects.filter(pk=menu["peanuts"].pk).update(active=False)
    before = snapshot()
    body = body_with(menu, dish=menu["chicken"].pk, options=[menu["mild"].pk, menu["peanuts"].pk])

    response = client.post(order_url(table), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "bad_options"
    assert snapshot() == before


@pytest.mark.parametrize("how", ["sold_out", "no_stock_left"])
def test_a_sold_out_dish_answers_409_naming_the_dish_and_what_is_left(client, menu, table, how):
    if how == "sold_out":
        Dish.objects.filter(pk=menu["fish"].pk).update(sold_out=True)
    else:
        Dish.objects.filter(pk=menu["fish"].pk).update(stock=0)
    before = snapshot()
    body = {
        "key": "k1",
        "guests": 2,
        "lines": [good_line(menu), {"dish": menu["fish"].pk, "quantity": 1}],
    }

    response = client.post(order_url(table), body, content_type="application/json")

    assert response.status_code == 409
    answer = response.json()
    assert answer["error"] == "out_of_stock"
    assert answer["dishes"] == [{"dish": menu["fish"].pk, "name": "清蒸鲈鱼", "left": 0}]
    assert "清蒸鲈鱼" in answer["message"]
    assert snapshot() == before


def test_asking_for_more_than_is_left_is_refused_with_what_is_left_and_takes_nothing(
    client, menu, table
):
    Dish.objects.filter(pk=menu["cucumber"].pk).update(stock=10)
    before = snapshot()
    # The cucumbers could be reserved; the fish cannot: the whole order is refused, cucumbers too.
    body = {
        "key": "k1",
        "guests": 2,
        "lines": [good_line(menu, quantity=3), {"dish": menu["fish"].pk, "quantity": 6}],
    }

    response = client.post(order_url(table), body, content_type="application/json")

    assert response.status_code == 409
    assert response.json()["dishes"] == [{"dish": menu["fish"].pk, "name": "清蒸鲈鱼", "left": 5}]
    assert snapshot() == before
    assert Dish.objects.get(pk=menu["cucumber"].pk).stock == 10


def test_after_a_refusal_the_same_key_can_still_order(client, menu, table):
    refused = client.post(
        order_url(table), body_with(menu, quantity=0), content_type="application/json"
    )

    accepted = client.post(
        order_url(table), body_with(menu, quantity=1), content_type="application/json"
    )

    assert (refused.status_code, accepted.status_code) == (400, 201)
    assert Order.objects.count() == 1
    assert OrderLine.objects.get().quantity == 1
