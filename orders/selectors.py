"""Reads that pages, sockets and the API share. Query counts stay constant in the data size."""

from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404

from restaurant.money import money

from .models import CartItem, Order, OrderLine, Tab, Table


def table_by_token(token):
    table = Table.objects.filter(token=token, active=True).first()
    if table is None:
        raise Http404("No such table")
    return table


def cart_items(tab):
    """The cart's items, each priced from the menu as it is now (`unit_price`, `amount`)."""
    items = list(
        CartItem.objects.filter(tab=tab).select_related("dish", "diner").prefetch_related("options")
    )
    for item in items:
        item.unit_price = money(
            item.dish.price + sum((o.price for o in item.options.all()), start=0)
        )
        item.amount = money(item.unit_price * item.quantity)
    return items


def cart_summary(items):
    return sum(item.quantity for item in items), sum(
        (item.amount for item in items), start=money(0)
    )


def tab_orders(tab):
    """The tab's orders, each with its lines, oldest first."""
    return list(
        Order.objects.filter(tab=tab).prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
        )
    )


def tab_total(orders):
    return sum(
        (
            line.amount
            for order in orders
            for line in order.lines.all()
            if line.status != OrderLine.Status.VOIDED
        ),
        start=money(0),
    )


def _tickets():
    open_lines = OrderLine.objects.filter(order=OuterRef("pk"), status__in=OrderLine.KITCHEN_OPEN)
    return (
        Order.objects.filter(Exists(open_lines), awaiting_payment=False)
        .select_related("tab__table")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def open_tickets():
    """Every order the kitchen still has work on, oldest first."""
    return list(_tickets())


def ticket(order_id):
    """One order as a kitchen ticket, or None when the kitchen has nothing left to do on it."""
    return _tickets().filter(pk=order_id).first()


def current_tab(table):
    return Tab.objects.filter(table=table).exclude(status=Tab.Status.CLOSED).first()


def cart_view(tab_id):
    """What the cart partial shows; the same for every phone at the table."""
    tab = Tab.objects.select_related("table").get(pk=tab_id)
    items = cart_items(tab)
    count, total = cart_summary(items)
    return {"tab": tab, "items": items, "cart_count": count, "cart_total": total}


def tab_view(tab_id):
    """What the tab partial shows: every round and each dish's status."""
    tab = Tab.objects.select_related("table").get(pk=tab_id)
    orders = tab_orders(tab)
    return {"tab": tab, "orders": orders, "tab_total": tab_total(orders)}
