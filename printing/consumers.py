"""`/ws/printers/`: the printer alert on kitchen and cashier screens (printing/alert.html)."""

from channels.db import database_sync_to_async

from restaurant.lib.realtime import DENIED, StreamConsumer
from restaurant.lib.roles import CASHIER, KITCHEN, has_role

from . import realtime


class PrinterAlertConsumer(StreamConsumer):
    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        return [realtime.PRINTERS] if has_role(self.scope.get("user"), KITCHEN, CASHIER) else None

    def render_state(self, stream):
        return realtime.render_alert()

    def render_event(self, event):
        return realtime.render_alert()
