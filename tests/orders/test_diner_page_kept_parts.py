"""The diner page keeps its tab's rendered parts (rounds and bill, cart bar, cart) per tab and
language, keyed on the tab stream's sequence number (orders.realtime.tab_parts): after every kind
of change the page a phone gets is the page rendered afresh, whether this process heard of the
change (its commit forgets the parts) or another process made it (only the number moved)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from menu.services import dish_set_availability
from orders import realtime, services
from orders.models import CartItem, Diner, OrderLine, Tab
from payments import services as payment_services

from .test_diner_page_reads import PER_REQUEST, page, queries_of_page

# Real commits: each change's events leave as in production (on_commit, then numbered in Redis).
pytestmark = pytest.mark.django_db(transaction=True)


def same(html):
    return PER_REQUEST.sub(r"\1…", html)


@pytest.fixture
def visit(table, menu):
    """A phone at an open tab: a cart line, a round of two dishes, the page's parts kept."""
    phone = Client()
    phone.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk}, HTTP_HX_REQUEST="true")
    tab = Tab.objects.get()
    services.order_submit(
        tab=tab,
        key="k1",
        guests=2,
        lines=[
            services.LineRequest(dish=menu["fish"].pk),
            services.LineRequest(dish=menu["cucumber"].pk, quantity=2),
        ],
    )
    page(phone, table)  # kept now
    return phone, tab


def check(phone, table, change, *, elsewhere):
    """`change` made here, or in another process (this one keeps its parts, unheard of): the
    next page is the page rendered afresh, and differs from the one before the change."""
    before = page(phone, table)
    kept = dict(realtime._tab_parts)
    change()
    if elsewhere:
        realtime._tab_parts.update(kept)  # this process never heard of it
    served = page(phone, table)
    realtime._tab_parts.clear()
    fresh = page(phone, table)
    assert same(served) == same(fresh)
    return same(before) != same(fresh)


@pytest.mark.parametrize("elsewhere", [False, True], ids=["here", "in another process"])
def test_after_every_change_the_page_is_the_page_rendered_afresh(
    visit, table, menu, cook, cashier, elsewhere
):
    phone, tab = visit
    lines = list(OrderLine.objects.filter(order__tab=tab).order_by("pk"))
    item = CartItem.objects.get()

    def status(line, to):
        return lambda: services.line_set_status(line_id=line.pk, status=to, user=cook)

    def backdate_urge():  # the urge interval passing: nothing is written but the clock
        OrderLine.objects.filter(pk=lines[0].pk).update(
            urged_at=timezone.now() - timedelta(hours=1)
        )

    def pay():
        version = Tab.objects.get(pk=tab.pk).version
        payment_services.payment_start(
            tab_id=tab.pk, method="cash", amount=Decimal("10.00"), version=version, key="p1",
            user=cashier,
        )  # fmt: skip

    changes = [
        (
            "cart add",
            lambda: services.cart_add(
                tab=tab,
                diner=Diner.objects.get(),
                request=services.LineRequest(dish=menu["fish"].pk),
            ),
        ),  # fmt: skip
        ("cart quantity", lambda: services.cart_set_quantity(tab=tab, item_id=item.pk, quantity=3)),
        ("rename", lambda: services.diner_rename(diner=Diner.objects.get(), nickname="老王")),
        ("cooking", status(lines[0], OrderLine.Status.COOKING)),
        ("urge", lambda: services.line_urge(tab=tab, line_id=lines[0].pk)),
        ("urge time passing", backdate_urge),
        ("ready", status(lines[0], OrderLine.Status.READY)),
        ("void", lambda: services.line_void(line_id=lines[1].pk, reason="客人不要了", user=cook)),
        (
            "sold out",
            lambda: dish_set_availability(dish_id=menu["fish"].pk, sold_out=True, user=cook),
        ),  # fmt: skip
        (
            "order",
            lambda: services.order_submit(
                tab=Tab.objects.get(pk=tab.pk),
                key="k2",
                guests=2,
                lines=[services.LineRequest(dish=menu["cucumber"].pk, note="少辣")],
            ),
        ),  # fmt: skip
        ("payment", pay),
    ]
    changed = {}
    for name, change in changes:
        changed[name] = check(phone, table, change, elsewhere=elsewhere)
    # Each showed on the page, but the clock: 催菜 shows while a dish is being made.
    assert changed == {name: name != "urge time passing" for name, _ in changes}


def test_a_kept_page_reads_one_row_and_each_language_has_its_own(visit, table):
    phone, _tab = visit
    assert len(queries_of_page(phone, table)) == 1
    assert "Ordered" not in page(phone, table)
    phone.cookies["django_language"] = "en"
    assert "Ordered" in page(phone, table)
    assert len(queries_of_page(phone, table)) == 1
    phone.cookies["django_language"] = "zh-hans"
    assert "Ordered" not in page(phone, table)
    assert len(queries_of_page(phone, table)) == 1
