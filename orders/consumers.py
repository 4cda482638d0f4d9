"""WebSockets of the ordering side (restaurant.lib.realtime.StreamConsumer): each checks who may
join and names its streams; on (re)connect and after a missed event it sends the whole current
state, so a screen is whole again whatever it missed."""

from channels.db import database_sync_to_async
from django.conf import settings
from django.http import Http404

from restaurant.lib.realtime import DENIED, NOT_FOUND, StreamConsumer, scope_query
from restaurant.lib.roles import KITCHEN, has_role

from . import realtime, selectors, services

VISIT_ENDED = 4410  # the page's visit ended: htmx does not reconnect after a 4xxx close


class TableConsumer(StreamConsumer):
    """`/ws/t/<token>/?tab=<id>`: the phones at one table; they see only their own tab (the
    visit their page showed), and the menu's sold-out news. When the visit ends (the table is
    closed, or its code replaced) the page is told and the socket closed, never moved on to the
    next guests' tab."""

    refuse_code = NOT_FOUND

    @database_sync_to_async
    def authorize(self):
        self.token = self.scope["url_route"]["kwargs"]["token"]
        try:
            table = selectors.table_by_token(self.token)
        except Http404:
            return None
        shown = scope_query(self.scope).get("tab", "")
        if shown.isdigit():
            self.tab_id = selectors.table_tab_id(table, int(shown))  # another table's: refused
        else:  # a page that showed no tab yet follows the one open now
            current = services.tab_for_table(table, create=settings.TABLE_OPENING == "diner")
            self.tab_id = current.pk if current else None
        if self.tab_id is None:
            return None
        self.connect_state = {realtime.tab_group(self.tab_id)}  # the page has just the menu
        return [realtime.tab_group(self.tab_id), realtime.MENU]

    async def send_state(self, streams, connecting=False):
        if await self.visit_over():
            await self.end_visit()
            return
        await super().send_state(streams, connecting)

    async def stream_event(self, event):
        if event.get("kind") == "ended" and await self.visit_over():
            await self.end_visit()
            return
        await super().stream_event(event)

    @database_sync_to_async
    def visit_over(self):
        return not selectors.visit_is_current(self.tab_id, self.token)

    async def end_visit(self):
        html = await self.render(("ended",), realtime.render_visit_ended)
        await self.send(text_data=html)
        await self.close(code=VISIT_ENDED)

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
        return realtime.render_board_pieces(self.station)

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
