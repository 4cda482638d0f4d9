"""The books' sockets: the cashier's shift screen and the manager's day screen follow the `books`
stream; each re-renders its own figures (the cashier's: their own shift's)."""

from channels.db import database_sync_to_async

from restaurant.lib.realtime import DENIED, StreamConsumer
from restaurant.lib.roles import CASHIER, MANAGER, has_role

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
    """`/ws/books/day/`: the day-close screen's blockers and Z report so far; managers only."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self) -> list[str] | None:
        return [realtime.BOOKS] if has_role(self.scope.get("user"), MANAGER) else None

    def render_state(self, stream: str) -> str:
        return realtime.render_day()

    def render_event(self, event: dict) -> str:
        return realtime.render_day()
