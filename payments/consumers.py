"""WebSockets of the payment side (restaurant.lib.realtime.StreamConsumer): check who may join,
name the streams, render the state or an event for this screen in its language."""

from channels.db import database_sync_to_async
from django.http import Http404

from orders import selectors as order_selectors
from restaurant.lib.realtime import DENIED, NOT_FOUND, StreamConsumer
from restaurant.lib.roles import CASHIER, has_role

from . import realtime


class CashierFloorConsumer(StreamConsumer):
    """`/ws/cashier/`: the floor plan; cashiers (and managers) only."""

    refuse_code = DENIED
    replay_limit = 64  # a tile is 1/300 of a busy floor: replaying many still beats the floor

    @database_sync_to_async
    def authorize(self):
        return [realtime.CASHIER] if has_role(self.scope.get("user"), CASHIER) else None

    def render_state(self, stream):
        return realtime.render_floor()

    def render_event(self, event):
        return realtime.render_floor_event(event)


class CashierBillConsumer(StreamConsumer):
    """`/ws/cashier/tabs/<id>/`: one bill open on a cashier's screen."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        if not has_role(self.scope.get("user"), CASHIER):
            return None
        self.tab_id = self.scope["url_route"]["kwargs"]["tab"]
        if not order_selectors.tab_exists(self.tab_id):
            return None
        return [realtime.bill_group(self.tab_id)]

    def render_state(self, stream):
        return realtime.render_bill(self.tab_id)

    def render_event(self, event):
        return realtime.render_bill(self.tab_id)


class PayConsumer(StreamConsumer):
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

    def render_state(self, stream):
        return realtime.render_pay(self.tab_id)

    def render_event(self, event):
        return realtime.render_pay(self.tab_id)
