"""A dish's options come when tapped: the menu carries no form per dish (a weak phone has ~50
forms less to parse and for htmx to go through), the card fetches its form, and without
script the same address is a page of its own that adds to the cart and goes back."""

import pytest
from django.test import Client

from orders import services
from orders.models import CartItem
from restaurant.lib.errors import Code, Refused
from tests.writes import statements

pytestmark = pytest.mark.django_db


def options_of(client, table, dish, **headers):
    return client.get(f"/t/{table.token}/dishes/{dish.pk}/", headers=headers)


def test_the_menu_has_a_link_per_dish_and_no_options_form(table, menu):
    html = Client().get(f"/t/{table.token}/").content.decode()
    chicken = html.split(f'id="dish-{menu["chicken"].pk}"')[1].split("</article>")[0]
    assert f'href="dishes/{menu["chicken"].pk}/"' in chicken and "选规格" in chicken
    assert 'name="note"' not in html and "微辣" not in html
    assert html.count("<form") <= 6  # 2 quick adds, the name, the cart; no form per dish


def test_the_card_gets_the_form_alone_and_its_post_names_the_pages_visit(table, menu):
    answer = options_of(Client(), table, menu["chicken"], **{"HX-Request": "true"})
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html
    assert f'hx-post="/t/{table.token}/cart/"' in html
    assert "微辣" in html and "特辣" in html and "加花生" in html and 'name="note"' in html
    assert 'name="tab"' not in html  # the page's own visit comes by hx-include="#tab-id"


def test_without_script_the_options_are_a_page_that_adds_and_goes_back(table, menu):
    phone = Client()
    tab = services.tab_for_table(table=table)
    page = options_of(phone, table, menu["chicken"])
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and "宫保鸡丁" in html
    assert f'<input type="hidden" name="tab" value="{tab.pk}">' in html
    assert f'href="/t/{table.token}/"' in html  # back to the menu
    added = phone.post(
        f"/t/{table.token}/cart/",
        {
            "dish": menu["chicken"].pk,
            "tab": tab.pk,
            f"option-{menu['heat'].pk}": menu["hot"].pk,
            "note": "少油",
        },
    )
    assert added.status_code == 302 and added["Location"] == f"/t/{table.token}/"
    item = CartItem.objects.get()
    assert item.note == "少油" and [o.name for o in item.options.all()] == ["特辣"]


def test_without_script_a_table_staff_must_open_says_so_as_its_page_does(table, menu, settings):
    settings.TABLE_OPENING = "staff"
    table_page = Client().get(f"/t/{table.token}/").content.decode()
    html = options_of(Client(), table, menu["chicken"]).content.decode()
    assert "<form" not in html.split("<main")[-1] if "<main" in html else "<form" not in html
    assert (
        Refused(Code.TABLE_NOT_OPEN).message in html
        and Refused(Code.TABLE_NOT_OPEN).message in table_page
    )


def test_a_sold_out_dish_offers_no_form_and_an_unknown_one_is_not_found(table, menu):
    menu["chicken"].sold_out = True
    menu["chicken"].save()
    html = options_of(Client(), table, menu["chicken"], **{"HX-Request": "true"}).content.decode()
    assert "<form" not in html and "售罄" in html
    menu["fish"].active = False
    menu["fish"].save()
    assert options_of(Client(), table, menu["fish"]).status_code == 404
    assert Client().get(f"/t/{table.token}/dishes/999999/").status_code == 404
    assert Client().get(f"/t/not-a-token/dishes/{menu['chicken'].pk}/").status_code == 404


def test_reading_a_dishs_options_writes_nothing(table, menu):
    with statements() as sent:
        options_of(Client(), table, menu["chicken"], **{"HX-Request": "true"})
        options_of(Client(), table, menu["chicken"])
    assert sent.writes() == []
