"""The diner page and the shared cart: every phone at a table fills one cart and submits it."""

import pytest
from django.test import Client

from orders.models import CartItem, Order, OrderLine, Tab

pytestmark = pytest.mark.django_db


def phone():
    return Client()


def add(client, table, dish, **fields):
    data = {"dish": dish.pk, **fields}
    return client.post(f"/t/{table.token}/cart/", data, HTTP_HX_REQUEST="true")


def test_the_menu_page_shows_dishes_prices_and_sold_out_state(table, menu):
    menu["cucumber"].sold_out = True
    menu["cucumber"].save()
    page = phone().get(f"/t/{table.token}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "宫保鸡丁" in html and "¥38" in html and "选规格" in html
    assert f'id="dish-{menu["cucumber"].pk}"' in html
    sold_out_card = html.split(f'id="dish-{menu["cucumber"].pk}"')[1].split("</article>")[0]
    assert "cart/" not in sold_out_card  # no way to add a sold-out dish


def test_an_unknown_token_is_not_found(db):
    assert phone().get("/t/not-a-token/").status_code == 404
    assert phone().post("/t/not-a-token/cart/", {"dish": 1}).status_code == 404


def test_two_phones_share_one_cart_and_see_who_added_what(table, menu):
    a, b = phone(), phone()
    a.get(f"/t/{table.token}/")
    b.get(f"/t/{table.token}/")
    add(a, table, menu["cucumber"])
    add(
        b,
        table,
        menu["chicken"],
        **{f"option-{menu['heat'].pk}": menu["mild"].pk, "options": [menu["peanuts"].pk]},
    )
    html = b.get(f"/t/{table.token}/").content.decode()
    assert "拍黄瓜" in html and "一号" in html and "二号" in html
    cart = html.split('id="cart"')[1]
    assert "¥41" in cart  # 38 + 3 for peanuts, priced on the server
    assert CartItem.objects.count() == 2


def test_the_same_dish_by_the_same_phone_adds_up(table, menu):
    a = phone()
    add(a, table, menu["cucumber"])
    add(a, table, menu["cucumber"], quantity=2)
    item = CartItem.objects.get()
    assert item.quantity == 3


def test_any_phone_can_change_or_remove_a_cart_line(table, menu):
    a, b = phone(), phone()
    add(a, table, menu["cucumber"])
    item = CartItem.objects.get()
    b.post(f"/t/{table.token}/cart/{item.pk}/", {"quantity": 4}, HTTP_HX_REQUEST="true")
    item.refresh_from_db()
    assert item.quantity == 4
    b.post(f"/t/{table.token}/cart/{item.pk}/", {"quantity": 0}, HTTP_HX_REQUEST="true")
    assert not CartItem.objects.exists()


def test_a_missing_required_option_is_refused_with_a_message(table, menu):
    response = add(phone(), table, menu["chicken"])
    assert response.status_code == 400
    assert "辣度" in response.content.decode()
    assert not CartItem.objects.exists()


def test_submitting_sends_the_cart_to_the_kitchen_and_empties_it(table, menu):
    a, b = phone(), phone()
    add(a, table, menu["cucumber"], quantity=2, note="不要香菜")
    add(b, table, menu["fish"])
    tab = Tab.objects.get()
    response = b.post(
        f"/t/{table.token}/submit/",
        {"cart_version": tab.cart_version, "guests": 3},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    order = Order.objects.get()
    assert [(line.name, line.quantity, line.note) for line in order.lines.all()] == [
        ("拍黄瓜", 2, "不要香菜"),
        ("清蒸鲈鱼", 1, ""),
    ]
    assert not CartItem.objects.exists()
    tab.refresh_from_db()
    assert tab.guests == 3
    menu["fish"].refresh_from_db()
    assert menu["fish"].stock == 4
    html = a.get(f"/t/{table.token}/").content.decode()
    assert "清蒸鲈鱼" in html.split('id="tab"')[1]


def test_a_double_tap_on_submit_makes_one_order(table, menu):
    a = phone()
    add(a, table, menu["fish"], quantity=2)
    version = Tab.objects.get().cart_version
    for _ in range(3):
        a.post(
            f"/t/{table.token}/submit/",
            {"cart_version": version, "guests": 2},
            HTTP_HX_REQUEST="true",
        )
    assert Order.objects.count() == 1
    menu["fish"].refresh_from_db()
    assert menu["fish"].stock == 3


def test_a_cart_changed_by_another_phone_is_not_submitted_unseen(table, menu):
    a, b = phone(), phone()
    add(a, table, menu["cucumber"])
    seen = Tab.objects.get().cart_version
    add(b, table, menu["fish"])
    response = a.post(
        f"/t/{table.token}/submit/", {"cart_version": seen, "guests": 2}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert not Order.objects.exists()
    assert CartItem.objects.count() == 2


def test_not_enough_stock_refuses_the_whole_order_and_keeps_the_cart(table, menu):
    a = phone()
    add(a, table, menu["cucumber"])
    add(a, table, menu["fish"], quantity=6)
    tab = Tab.objects.get()
    response = a.post(
        f"/t/{table.token}/submit/",
        {"cart_version": tab.cart_version, "guests": 2},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    text = response.content.decode()
    assert "清蒸鲈鱼" in text and "5" in text
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert CartItem.objects.count() == 2
    menu["fish"].refresh_from_db()
    assert menu["fish"].stock == 5


def test_the_first_order_asks_for_the_number_of_guests(table, menu):
    a = phone()
    add(a, table, menu["cucumber"])
    tab = Tab.objects.get()
    response = a.post(
        f"/t/{table.token}/submit/", {"cart_version": tab.cart_version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_more_can_be_ordered_later_on_the_same_tab(table, menu):
    a = phone()
    for _round in (1, 2):
        add(a, table, menu["cucumber"])
        tab = Tab.objects.get()
        a.post(
            f"/t/{table.token}/submit/",
            {"cart_version": tab.cart_version, "guests": 2},
            HTTP_HX_REQUEST="true",
        )
    assert list(Order.objects.values_list("number", flat=True)) == [1, 2]
    assert Tab.objects.count() == 1


def test_a_page_of_a_closed_tab_cannot_add_to_the_next_guests_cart(table, menu):
    a = phone()
    add(a, table, menu["fish"])  # the phone's first write opened the visit its page shows
    old = Tab.objects.get()
    CartItem.objects.all().delete()
    Tab.objects.filter(pk=old.pk).update(status=Tab.Status.CLOSED)
    response = a.post(
        f"/t/{table.token}/cart/",
        {"dish": menu["cucumber"].pk, "tab": old.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert not CartItem.objects.exists()


def test_the_page_works_without_script_by_redirecting_back(table, menu):
    a = phone()
    response = a.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk})
    assert response.status_code == 302 and response["Location"] == f"/t/{table.token}/"
