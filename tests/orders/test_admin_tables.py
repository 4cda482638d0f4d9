"""The manager's admin: tables, their printable QR cards and token rotation; orders stay read-only;
the dish list edits prices without undoing what diners ordered meanwhile."""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import qrcode
from django.conf import settings
from django.test import Client

from orders import services
from orders.models import Order, Table
from restaurant.lib import qr

pytestmark = pytest.mark.django_db

SHEET = "/admin/orders/table/qr-sheet/"
TABLES = "/admin/orders/table/"


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", password="pw-boss")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def card_svg(html, table):
    """The inline SVG of this table's card on the sheet."""
    match = re.search(rf'id="card-{table.pk}".*?(<svg\b.*?</svg>)', html, re.S)
    assert match, f"no QR card for table {table.code}"
    return match.group(1)


def dark_modules(svg):
    """The (x, y) of every dark module drawn by the SVG's path, quiet zone included."""
    path = re.search(r'<path\b[^>]*\bd="([^"]+)"', svg).group(1)
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path)
    assert squares and len(squares) == path.count("M")
    modules = set()
    for x, y, right, bottom in squares:
        x, y = int(Decimal(x)), int(Decimal(y))
        assert (int(Decimal(right)) - x, int(Decimal(bottom)) - y) == (1, 1)
        modules.add((x, y))
    return modules


def expected_modules(data):
    """The dark modules of the QR code a printed card must carry for `data`."""
    code = qrcode.QRCode(error_correction=qr.ERROR_CORRECTION, border=qr.BORDER)
    code.add_data(data)
    code.make(fit=True)
    return {(x, y) for y, row in enumerate(code.get_matrix()) for x, dark in enumerate(row) if dark}


# The QR sheet ----------------------------------------------------------------------------------


def test_a_superuser_sees_a_card_with_a_qr_code_for_every_table_in_use(boss, table, other_table):
    Table.objects.create(code="Z9", area="露台", active=False)

    response = logged_in(boss).get(SHEET)

    assert response.status_code == 200
    html = response.content.decode()
    for shown in (table, other_table):
        assert f'<div class="code">{shown.code}</div>' in html
        assert dark_modules(card_svg(html, shown))
    assert "Z9" not in html
    assert html.count("扫码点餐 · Scan to order") == 2
    assert settings.RESTAURANT_NAME in html
    # Printed on A4 by its own style sheet (a file: the Content-Security-Policy has no inline style).
    assert "css/qr_sheet.css" in html
    assert (
        "@page { size: A4; margin: 10mm; }"
        in (settings.BASE_DIR / "static/css/qr_sheet.css").read_text()
    )


def test_the_qr_on_a_card_encodes_exactly_the_tables_diner_url(boss, table, other_table):
    assert table.diner_url == f"{settings.PUBLIC_URL}/t/{table.token}/"

    html = logged_in(boss).get(SHEET).content.decode()

    assert dark_modules(card_svg(html, table)) == expected_modules(table.diner_url)
    assert dark_modules(card_svg(html, other_table)) == expected_modules(other_table.diner_url)
    assert expected_modules(table.diner_url) != expected_modules(other_table.diner_url)


def test_a_manager_with_staff_access_sees_the_sheet(manager, table):
    manager.is_staff = True
    manager.save()

    response = logged_in(manager).get(SHEET)

    assert response.status_code == 200
    assert dark_modules(card_svg(response.content.decode(), table)) == expected_modules(
        table.diner_url
    )


def test_the_sheet_can_be_limited_to_chosen_tables(boss, table, other_table):
    html = logged_in(boss).get(SHEET, {"ids": str(other_table.pk)}).content.decode()

    assert f'id="card-{other_table.pk}"' in html
    assert f'id="card-{table.pk}"' not in html


def test_a_sheet_with_more_than_six_tables_runs_onto_a_second_page(boss):
    for number in range(1, 8):
        Table.objects.create(code=f"B{number}")

    html = logged_in(boss).get(SHEET).content.decode()

    assert html.count('<section class="page">') == 2
    assert html.count('class="card"') == 7


def test_ids_that_are_not_table_ids_are_refused(boss, table):
    for bad in ("x", "1;2", "-1", ""):
        assert logged_in(boss).get(SHEET, {"ids": bad}).status_code == 400


def test_an_anonymous_visitor_is_sent_to_the_admin_login(table):
    for url in (SHEET, f"{TABLES}{table.pk}/qr.svg"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_people_without_staff_access_are_sent_to_the_admin_login(outsider, manager, table):
    for user in (outsider, manager):
        response = logged_in(user).get(SHEET)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_manager_role_or_a_permission_are_refused(cook, table):
    cook.is_staff = True
    cook.save()

    assert logged_in(cook).get(SHEET).status_code == 403
    assert logged_in(cook).get(f"{TABLES}{table.pk}/qr.svg").status_code == 403


def test_one_tables_qr_code_is_served_as_an_svg_file(boss, table):
    response = logged_in(boss).get(f"{TABLES}{table.pk}/qr.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert svg.startswith("<svg") and "<?xml" not in svg
    assert dark_modules(svg) == expected_modules(table.diner_url)


def test_the_table_list_links_to_the_sheet_and_each_diner_page(boss, table):
    html = logged_in(boss).get(TABLES).content.decode()

    assert f'href="{SHEET}"' in html
    assert f'href="{table.diner_url}"' in html


# Admin actions ---------------------------------------------------------------------------------


def test_the_print_action_sends_the_selected_tables_to_the_sheet(boss, table, other_table):
    response = logged_in(boss).post(
        TABLES, {"action": "print_qr_cards", "_selected_action": [table.pk, other_table.pk]}
    )

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{SHEET}?ids=")
    assert sorted(location.split("=")[1].split(",")) == sorted([str(table.pk), str(other_table.pk)])


def test_rotating_the_token_retires_the_printed_code_and_the_new_one_works(
    boss, table, other_table, menu
):
    old_token, untouched = table.token, other_table.token
    admin = logged_in(boss)

    response = admin.post(
        TABLES,
        {"action": "rotate_tokens", "_selected_action": [table.pk]},
        follow=True,
        headers={"accept-language": "en"},
    )

    table.refresh_from_db()
    other_table.refresh_from_db()
    assert table.token != old_token
    assert other_table.token == untouched
    assert [str(m) for m in response.context["messages"]] == [
        "New QR token for 1 table: print its card again."
    ]
    phone = Client()
    assert phone.get(f"/t/{old_token}/").status_code == 404
    assert phone.get(f"/t/{table.token}/").status_code == 200
    sheet = admin.get(SHEET).content.decode()
    assert dark_modules(card_svg(sheet, table)) == expected_modules(
        f"{settings.PUBLIC_URL}/t/{table.token}/"
    )


def test_the_rotate_action_reports_how_many_tables_it_changed(boss, table, other_table):
    response = logged_in(boss).post(
        TABLES,
        {"action": "rotate_tokens", "_selected_action": [table.pk, other_table.pk]},
        follow=True,
        headers={"accept-language": "en"},
    )

    assert [str(m) for m in response.context["messages"]] == [
        "New QR tokens for 2 tables: print their cards again."
    ]


# Orders are read-only --------------------------------------------------------------------------


@pytest.fixture
def order(table, menu):
    tab = services.tab_for_table(table=table)
    created, _ = services.order_submit(
        tab=tab,
        key="k1",
        guests=2,
        lines=[
            services.LineRequest(dish=menu["chicken"].pk, quantity=2, options=[menu["mild"].pk])
        ],
    )
    return created


def test_the_admin_refuses_to_add_an_order(boss):
    assert logged_in(boss).get("/admin/orders/order/add/").status_code == 403
    assert logged_in(boss).get("/admin/orders/tab/add/").status_code == 403


def test_an_order_and_its_lines_can_be_read_but_not_changed(boss, order):
    admin = logged_in(boss)
    url = f"/admin/orders/order/{order.pk}/change/"

    page = admin.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "宫保鸡丁" in html and "微辣" in html and "76.00" in html
    assert 'name="lines-0-quantity"' not in html

    assert admin.post(url, {"number": 9}).status_code == 403
    assert admin.post(f"/admin/orders/order/{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Order.objects.get(pk=order.pk).number == order.number


def test_a_tab_shows_its_orders_and_its_history(boss, order):
    html = logged_in(boss).get(f"/admin/orders/tab/{order.tab_id}/change/").content.decode()

    assert f"/admin/orders/order/{order.pk}/change/" in html
    assert "76.00" in html


# The dish list ---------------------------------------------------------------------------------


class PageForm(HTMLParser):
    """What a browser would post from the page's form `form_id`, as it was shown."""

    def __init__(self, html, form_id):
        super().__init__()
        self.form_id, self.inside, self.select, self.pairs = form_id, False, None, []
        self.feed(html)
        self.data = {}
        for name, value in self.pairs:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.pairs.append((attrs["name"], attrs.get("value", "on")))
                return
            self.pairs.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self.select = attrs.get("name")
        elif tag == "option" and self.select and "selected" in attrs:
            self.pairs.append((self.select, attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def shown_form(client, url, form_id):
    return PageForm(client.get(url).content.decode(), form_id).data


def test_the_dish_list_shows_the_menu(boss, menu):
    response = logged_in(boss).get("/admin/menu/dish/")

    assert response.status_code == 200
    html = response.content.decode()
    for dish in ("拍黄瓜", "宫保鸡丁", "清蒸鲈鱼"):
        assert dish in html
    assert 'name="form-2-price" value="88.00"' in html
    assert 'name="form-2-stock" value="5"' in html


def test_a_price_edit_in_the_dish_list_keeps_the_portions_ordered_meanwhile(boss, table, menu):
    fish = menu["fish"]
    admin = logged_in(boss)
    url = "/admin/menu/dish/?q=清蒸鲈鱼"
    form = shown_form(admin, url, "changelist-form")
    assert form["form-0-stock"] == ["5"]

    # A table orders two fish while the manager's page still shows five.
    tab = services.tab_for_table(table=table)
    services.order_submit(
        tab=tab, key="k1", guests=2, lines=[services.LineRequest(dish=fish.pk, quantity=2)]
    )
    form.update({"form-0-price": "92.00", "_save": "Save"})
    response = admin.post(url, form)

    assert response.status_code == 302
    fish.refresh_from_db()
    assert fish.price == Decimal("92.00")
    assert fish.stock == 3


def test_a_stock_count_typed_into_the_dish_list_is_saved(boss, menu):
    fish = menu["fish"]
    admin = logged_in(boss)
    url = "/admin/menu/dish/?q=清蒸鲈鱼"
    form = shown_form(admin, url, "changelist-form")
    form.update({"form-0-stock": "12", "form-0-sold_out": "on", "_save": "Save"})

    assert admin.post(url, form).status_code == 302

    fish.refresh_from_db()
    assert (fish.stock, fish.sold_out, fish.price) == (12, True, Decimal("88.00"))


def test_editing_a_dish_keeps_the_portions_ordered_while_its_page_was_open(boss, table, menu):
    fish = menu["fish"]
    admin = logged_in(boss)
    url = f"/admin/menu/dish/{fish.pk}/change/"
    form = shown_form(admin, url, "dish_form")
    assert form["stock"] == ["5"]

    tab = services.tab_for_table(table=table)
    services.order_submit(
        tab=tab, key="k1", guests=2, lines=[services.LineRequest(dish=fish.pk, quantity=1)]
    )
    form.update({"description": "今早到的鲈鱼", "_save": "Save"})
    response = admin.post(url, form)

    assert response.status_code == 302
    fish.refresh_from_db()
    assert (fish.description, fish.stock) == ("今早到的鲈鱼", 4)
