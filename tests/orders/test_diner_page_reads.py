"""What the diner page reads, and that the menu it keeps is the menu it would render.

A phone's page reads its table, the table's current tab, the phone's diner there and the menu's
version in one query (orders.selectors.table_visit), and takes the rendered menu from this
process's memory, else Redis, else renders it (orders.views.menu_html)."""

import re

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext

from menu.models import MenuState
from menu.services import dish_set_availability
from orders import realtime, selectors, services
from orders.models import Diner, Tab, Table
from orders.views import menu_html

pytestmark = pytest.mark.django_db

# What differs between two renders of one page by design: the CSP nonce and the CSRF token.
PER_REQUEST = re.compile(r'(nonce="|csrfmiddlewaretoken" value="|"x-csrftoken": ")[^"]+')


def page(client, table):
    response = client.get(f"/t/{table.token}/")
    assert response.status_code == 200
    return response.content.decode()


def card(html, dish):
    return html.split(f'id="dish-{dish.pk}"')[1].split("</article>")[0]


def sold_out(html, dish):
    classes = re.search(rf'<article class="([^"]*)" id="dish-{dish.pk}"', html).group(1)
    return "sold-out" in classes.split()


def queries_of_page(client, table):
    with CaptureQueriesContext(connection) as captured:
        page(client, table)
    return [query["sql"] for query in captured.captured_queries]


def fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_returning_phone_at_a_free_table_costs_one_query(table, menu):
    phone = Client()
    page(phone, table)  # the first visit renders the menu and sets the phone's cookie
    sql = queries_of_page(phone, table)
    assert len(sql) == 1
    assert "orders_tab" in sql[0] and "orders_diner" in sql[0] and "menu_menustate" in sql[0]


def test_a_phone_at_an_open_tab_reads_table_tab_diner_and_menu_version_at_once(table, menu):
    phone = Client()
    phone.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk}, HTTP_HX_REQUEST="true")
    tab = Tab.objects.get()
    services.order_submit(
        tab=tab, key="k1", guests=2, lines=[services.LineRequest(dish=menu["fish"].pk)]
    )
    page(phone, table)  # the menu kept
    realtime._tab_parts.clear()  # the tab's parts not
    sql = queries_of_page(phone, table)
    # One for table, tab, diner and menu version (four before), then the cart (and its items'
    # options), the rounds and their lines, the payments and the adjustments of the bill...
    assert len(sql) == 7, "\n".join(sql)
    # ...which the next page takes from this process, as rendered (test_diner_page_kept_parts).
    assert len(queries_of_page(phone, table)) == 1
    html = page(phone, table)
    assert "一号" in html and "拍黄瓜" in html and "清蒸鲈鱼" in html


def test_table_visit_reads_the_rows_the_orm_reads(table, other_table, menu):
    phone = Client()
    phone.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk}, HTTP_HX_REQUEST="true")
    key = phone.cookies["diancan_diner"].value
    tab, diner = Tab.objects.get(), Diner.objects.get()

    visit = selectors.table_visit(table.token, key)
    assert fields(visit.table) == fields(Table.objects.get(pk=table.pk))
    assert fields(visit.tab) == fields(Tab.objects.get(pk=tab.pk))
    assert fields(visit.diner) == fields(Diner.objects.get(pk=diner.pk))
    assert visit.tab.table is visit.table and visit.diner.tab is visit.tab
    assert visit.menu_version == MenuState.current()

    assert selectors.table_visit(table.token, "0" * 32).diner is None  # another phone
    assert selectors.table_visit(table.token, None).diner is None
    free = selectors.table_visit(other_table.token, key)
    assert (free.table.pk, free.tab, free.diner) == (other_table.pk, None, None)

    Tab.objects.filter(pk=tab.pk).update(status=Tab.Status.CLOSED)  # a past visit is not current
    assert selectors.table_visit(table.token, key).tab is None
    Table.objects.filter(pk=other_table.pk).update(active=False)
    for token in (other_table.token, "not-a-token"):
        with pytest.raises(Http404):
            selectors.table_visit(token, key)


def test_the_page_from_kept_menus_is_the_page_rendered_afresh(table, menu):
    phone = Client()
    page(phone, table)
    menu_html.cache_clear()
    cache.clear()
    rendered = page(phone, table)  # rendered now, then kept in Redis and in this process
    from_memory = page(phone, table)
    assert menu_html.cache_info().hits == 1
    menu_html.cache_clear()
    from_redis = page(phone, table)  # as in another process: Redis has it, its memory not
    same = PER_REQUEST.sub(r"\1…", rendered)
    assert PER_REQUEST.sub(r"\1…", from_memory) == same
    assert PER_REQUEST.sub(r"\1…", from_redis) == same
    assert "宫保鸡丁" in same and "清蒸鲈鱼" in same


def test_sold_out_and_portions_show_on_the_next_page_at_once(cook, table, menu):
    phone = Client()
    fish = menu["fish"]
    assert not sold_out(page(phone, table), fish)

    dish_set_availability(dish_id=fish.pk, sold_out=True, user=cook)  # 估清
    assert sold_out(page(phone, table), fish)

    dish_set_availability(dish_id=fish.pk, sold_out=False, stock=1, user=cook)
    assert not sold_out(page(phone, table), fish)
    assert "cart/" in card(page(phone, table), fish)

    tab = services.tab_for_table(table=table)  # an order takes the last portion
    services.order_submit(tab=tab, key="k1", guests=2, lines=[services.LineRequest(dish=fish.pk)])
    html = page(phone, table)
    assert sold_out(html, fish) and "cart/" not in card(html, fish)


def test_the_pages_of_two_languages_keep_their_own_menus(table, menu):
    phone = Client()
    assert "Kung Pao chicken" not in page(phone, table)
    phone.cookies["django_language"] = "en"
    assert "Kung Pao chicken" in page(phone, table)
    phone.cookies["django_language"] = "zh-hans"
    assert "Kung Pao chicken" not in page(phone, table)


def test_cache_objects_of_many_requests_share_one_redis_connection(needs_redis):
    """Under ASGI each request gets its own cache object; each opened its own connection."""

    def connections_to_our_db():
        number = caches["default"]._cache.get_client().connection_pool.connection_kwargs["db"]
        listed = caches["default"]._cache.get_client().client_list()
        return sum(1 for client in listed if client["db"] == str(number))

    before = connections_to_our_db()
    objects = [caches.create_connection("default") for _ in range(20)]  # kept: no GC closing
    for each in objects:
        each.get("anything")
    assert len({id(each._cache) for each in objects}) == 1
    assert connections_to_our_db() - before <= 1
