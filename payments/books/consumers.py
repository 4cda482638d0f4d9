"""The books' sockets: the cashier's shift screen and the manager's day screen follow the `books`
stream; each re-renders its own figures (the cashier's: their own shift's)."""

from channels.db import database_sync_to_async

from restaurant.lib.alerts import ALERTS
from restaurant.lib.realtime import DENIED, StreamConsumer
from restaurant.lib.roles import CASHIER, MANAGER, has_role

from ..reports.consumers import render_alerts
from . import realtime


class ShiftConsumer(StreamConsumer):
    """`/ws/books/shift/`: what this cashier's till should hold, live."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self) -> list[str] | None:
        user = self.scope.get("user")
        if user is None or not has_role(user, CASHIER):
            return None
        self.user_id = user.pk
        self.view = f"shift.{user.pk}"  # the memo keeps each cashier's render apart
        return [realtime.BOOKS]

    def render_state(self, stream: str) -> str:
        return realtime.render_shift(self.user_id)

    def render_event(self, event: dict) -> str:
        return realtime.render_shift(self.user_id)


class DayConsumer(StreamConsumer):
    """`/ws/books/day/`: the day-close screen's blockers and Z report so far, and the manager's
    open alerts (a failed backup, a gateway's bill that does not match); managers only."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self) -> list[str] | None:
        return [realtime.BOOKS, ALERTS] if has_role(self.scope.get("user"), MANAGER) else None

    def render_state(self, stream: str) -> str:
        return render_alerts() if stream == ALERTS else realtime.render_day()

    def render_event(self, event: dict) -> str:
        return render_alerts() if event["stream"] == ALERTS else realtime.render_day()
