"""WebSockets of the ordering side (restaurant.lib.realtime.StreamConsumer): each checks who may
join and names its streams; on (re)connect and after a missed event it sends the whole current
state, so a screen is whole again whatever it missed."""

from channels.db import database_sync_to_async
from django.http import Http404

from restaurant.lib.realtime import DENIED, NOT_FOUND, StreamConsumer
from restaurant.lib.roles import KITCHEN, has_role

from . import realtime, selectors, services


class TableConsumer(StreamConsumer):
    """`/ws/t/<token>/`: the phones at one table; they see only their own tab, and the menu's
    sold-out news."""

    refuse_code = NOT_FOUND

    @database_sync_to_async
    def authorize(self):
        try:
            table = selectors.table_by_token(self.scope["url_route"]["kwargs"]["token"])
        except Http404:
            return None
        self.tab_id = services.tab_for_table(table).pk
        self.connect_state = {realtime.tab_group(self.tab_id)}  # the page has just the menu
        return [realtime.tab_group(self.tab_id), realtime.MENU]

    def render_state(self, stream):
        if stream == realtime.MENU:
            return realtime.render_menu()
        return realtime.render_cart(self.tab_id) + realtime.render_tab(self.tab_id)

    def render_event(self, event):
        if event["stream"] == realtime.MENU:
            return realtime.render_dish(event["dish"])
        return realtime.render_tab_event(self.tab_id, event)


class KitchenConsumer(StreamConsumer):
    """`/ws/kitchen/` and `/ws/kitchen/<station>/`: staff with the kitchen (or manager) role."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        if not has_role(self.scope.get("user"), KITCHEN):
            return None
        slug = self.scope["url_route"]["kwargs"].get("station")
        self.station = None
        if slug is not None:
            self.station = next((s for s in selectors.stations() if s.slug == slug), None)
            if self.station is None:
                return None
        self.view = slug  # each board renders its own tickets
        return [realtime.KITCHEN]

    def render_state(self, stream):
        return realtime.render_board(self.station)

    def render_event(self, event):
        return realtime.render_kitchen_event(event, self.station)


class PassConsumer(StreamConsumer):
    """`/ws/pass/`: the runners' screen of ready dishes; kitchen role."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        return [realtime.PASS] if has_role(self.scope.get("user"), KITCHEN) else None

    def render_state(self, stream):
        return realtime.render_pass()

    def render_event(self, event):
        return realtime.render_pass()
