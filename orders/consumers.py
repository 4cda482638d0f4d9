"""WebSockets of the ordering side (restaurant.lib.realtime.StreamConsumer): each checks who may
join and names its streams; on (re)connect and after a missed event it sends the whole current
state, so a screen is whole again whatever it missed."""

from channels.db import database_sync_to_async
from django.http import Http404

from restaurant.lib.realtime import DENIED, NOT_FOUND, StreamConsumer, scope_query
from restaurant.lib.roles import KITCHEN, has_role

from . import realtime, selectors

VISIT_ENDED = 4410  # the page's visit ended: htmx does not reconnect after a 4xxx close


class TableConsumer(StreamConsumer):
    """`/ws/t/<token>/?tab=<id>`: the phones at one table; they see only their own tab (the
    visit their page showed), and the menu's sold-out news. When the visit ends (the table is
    closed, or its code replaced) the page is told and the socket closed, never moved on to the
    next guests' tab.

    Connecting reads only: a page opened at a free table follows the table's stream until a
    visit opens there (a phone's first order, or staff 开台), then follows that visit."""

    refuse_code = NOT_FOUND
    tab_id: int | None = None

    @database_sync_to_async
    def authorize(self):
        self.token = self.scope["url_route"]["kwargs"]["token"]
        try:
            table = selectors.table_by_token(self.token)
        except Http404:
            return None
        self.table_id = table.pk
        self.table_stream = realtime.table_group(table.pk)
        shown = scope_query(self.scope).get("tab", "")
        if shown.isdigit():
            self.tab_id = selectors.table_tab_id(table, int(shown))  # another table's: refused
            if self.tab_id is None:
                return None
        else:  # a page that showed no tab yet follows the one open now, or waits for one
            self.tab_id = selectors.current_tab_id(table.pk)
        if self.tab_id is None:
            self.connect_state = set()  # the page has the menu and an empty cart
            return [self.table_stream, realtime.MENU]
        self.connect_state = {realtime.tab_group(self.tab_id)}  # the page has just the menu
        return [realtime.tab_group(self.tab_id), realtime.MENU]

    async def send_state(self, streams, connecting=False):
        if await self.visit_over():
            await self.end_visit()
            return
        if self.tab_id is None and self.table_stream in streams:
            # A (re)connect, or a heal after the "opened" event was dropped: a visit that
            # opened meanwhile is followed now, its state instead of the table's nothing.
            opened = await database_sync_to_async(selectors.current_tab_id)(self.table_id)
            if opened is not None:
                await self.follow(opened)
                streams = [stream for stream in streams if stream != self.table_stream]
                if not streams:
                    return
        await super().send_state(streams, connecting)

    async def stream_event(self, event):
        if event["stream"] == self.table_stream:
            # A visit opened at the table: follow it (one message: its state). Nothing of the
            # table's own stream is shown, so it needs no stamp of its own.
            if event.get("kind") == "opened":
                async with self.lock:
                    if self.tab_id is None:
                        await self.follow(event["tab"])
            return
        if event["stream"] not in self.streams:
            return  # news of a stream this screen left
        await super().stream_event(event)

    async def show(self, event):
        if event["stream"] == self.table_stream:  # replayed from the table's log (lock held)
            if event.get("kind") == "opened" and self.tab_id is None:
                await self.follow(event["tab"])
            return False
        if event.get("kind") == "ended" and await self.visit_over():
            await self.end_visit()
            return False
        return await super().show(event)

    async def follow(self, tab_id):
        """Join the visit that opened at this table (the caller holds the lock): its stream's
        whole state, and the page learns which visit its POSTs name."""
        self.tab_id = tab_id
        stream = realtime.tab_group(tab_id)
        await self.channel_layer.group_add(stream, self.channel_name)
        await self.channel_layer.group_discard(self.table_stream, self.channel_name)
        self.streams = [stream, *(s for s in self.streams if s != self.table_stream)]
        for table_state in (self.last, self.ahead, self.behind, self.heard):
            table_state.pop(self.table_stream, None)
        await self.send_state([stream])

    @database_sync_to_async
    def visit_over(self):
        if self.tab_id is None:
            return not selectors.table_is_active(self.token)
        return not selectors.visit_is_current(self.tab_id, self.token)

    async def end_visit(self):
        html = await self.render(("ended",), realtime.render_visit_ended)
        await self.send(text_data=html)
        await self.close(code=VISIT_ENDED)

    def render_state(self, stream):
        if stream == realtime.MENU:
            return realtime.render_menu()
        if stream == self.table_stream:
            return ""  # nothing to show until a visit opens
        return (
            realtime.render_cart(self.tab_id)
            + realtime.render_tab(self.tab_id)
            + realtime.render_visit(self.tab_id)
        )

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
