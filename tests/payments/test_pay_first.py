"""Pay first (先付后吃): an order reaches the kitchen only when it is paid; an unpaid one expires
and gives its stock back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from menu.models import Dish
from orders import selectors as order_selectors
from orders import services as order_services
from orders.models import Order, OrderLine, Tab
from payments import services

from .conftest import approve, notify, qr_payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pay_first(settings):
    settings.SERVICE_FLOW = "pay_first"


def order_fish(table, key="fish", quantity=2):
    tab = order_services.tab_for_table(table=table)
    order, _ = order_services.order_submit(
        tab=tab, key=key, guests=1,
        lines=[order_services.LineRequest(dish=Dish.objects.get(name="清蒸鲈鱼").pk, quantity=quantity)],
    )  # fmt: skip
    tab.refresh_from_db()
    return tab, order


def test_an_unpaid_order_waits_and_reaches_the_kitchen_when_paid(table, menu, client, commits):
    tab, order = order_fish(table)
    assert order.awaiting_payment and not order_selectors.open_tickets()
    with commits():
        notify(client, approve(qr_payment(tab, amount="176.00")))
    order.refresh_from_db()
    assert not order.awaiting_payment
    assert [o.pk for o in order_selectors.open_tickets()] == [order.pk]
    # The tab stays open for the next order; it is paid up.
    assert Tab.objects.get(pk=tab.pk).status == "open"


def test_a_partly_paid_order_still_waits(table, menu, client, commits):
    tab, order = order_fish(table)
    with commits():
        notify(client, approve(qr_payment(tab, amount="100.00")))
    order.refresh_from_db()
    assert order.awaiting_payment and not order_selectors.open_tickets()


def test_an_unpaid_order_expires_and_gives_its_stock_back(table, menu, commits):
    tab, order = order_fish(table)
    assert Dish.objects.get(name="清蒸鲈鱼").stock == 3
    with commits():
        services.payments_expire_due(now=timezone.now() + timedelta(minutes=16))
    assert Dish.objects.get(name="清蒸鲈鱼").stock == 5
    assert set(OrderLine.objects.filter(order=order).values_list("status", flat=True)) == {"voided"}
    assert services.amount_due(tab.pk)[0]["total"] == "0.00"
    assert not order_selectors.open_tickets()


def test_a_paid_order_never_expires(table, menu, commits, client):
    tab, order = order_fish(table)
    with commits():
        notify(client, approve(qr_payment(tab, amount="176.00")))
        services.payments_expire_due(now=timezone.now() + timedelta(minutes=16))
    assert Dish.objects.get(name="清蒸鲈鱼").stock == 3
    assert Order.objects.get(pk=order.pk).lines.get().status == "queued"
