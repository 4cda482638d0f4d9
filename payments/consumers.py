"""WebSockets of the payment side, on the pattern of orders.consumers.HtmlPushConsumer: check
who may join, join the group in the page's language, send the current state at once."""

from channels.db import database_sync_to_async
from django.http import Http404

from orders import selectors as order_selectors
from orders.consumers import DENIED, NOT_FOUND, HtmlPushConsumer
from orders.models import Tab
from restaurant.lib.roles import CASHIER, has_role

from . import realtime, selectors


class CashierFloorConsumer(HtmlPushConsumer):
    """`/ws/cashier/`: the floor plan; cashiers (and managers) only. `authorize` returns the
    groups to join, as orders.consumers.HtmlPushConsumer expects."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        if not has_role(self.scope.get("user"), CASHIER):
            return None
        return [realtime.CASHIER]

    def render_state(self):
        return "".join(realtime.render_tile(tile["table"].pk) for tile in selectors.floor())


class CashierBillConsumer(HtmlPushConsumer):
    """`/ws/cashier/tabs/<id>/`: one bill open on a cashier's screen."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        if not has_role(self.scope.get("user"), CASHIER):
            return None
        self.tab_id = self.scope["url_route"]["kwargs"]["tab"]
        if not Tab.objects.filter(pk=self.tab_id).exists():
            return None
        return [realtime.bill_group(self.tab_id)]

    def render_state(self):
        return realtime.render_bill(self.tab_id)


class PayConsumer(HtmlPushConsumer):
    """`/ws/t/<token>/pay/`: the phones on a table's pay page; only their own tab."""

    refuse_code = NOT_FOUND

    @database_sync_to_async
    def authorize(self):
        try:
            table = order_selectors.table_by_token(self.scope["url_route"]["kwargs"]["token"])
        except Http404:
            return None
        tab = order_selectors.current_tab(table)
        if tab is None:
            return None
        self.tab_id = tab.pk
        return [realtime.pay_group(tab.pk)]

    def render_state(self):
        return realtime.render_pay(self.tab_id)
