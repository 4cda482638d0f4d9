"""WebSockets of the ordering side. Each checks who may join, joins, then sends the current state,
so a screen that (re)connects is whole again whatever it missed."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import Http404
from django.utils import translation

from menu.models import Station
from restaurant.lib.roles import KITCHEN, has_role

from . import realtime, selectors, services

DENIED = 4403
NOT_FOUND = 4404


def scope_language(scope):
    query = dict(
        part.split("=", 1)
        for part in scope.get("query_string", b"").decode().split("&")
        if "=" in part
    )
    language = query.get("lang", settings.LANGUAGE_CODE)
    known = dict(settings.LANGUAGES)
    return language if language in known else settings.LANGUAGE_CODE


class HtmlPushConsumer(AsyncWebsocketConsumer):
    """Joins one group in the page's language and forwards its HTML pushes. Receives nothing."""

    groups = ()

    async def connect(self):
        self.language = scope_language(self.scope)
        groups = await self.authorize()
        if not groups:
            await self.close(code=self.refuse_code)
            return
        self.groups = [realtime.lang_group(group, self.language) for group in groups]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        html = await self.current_state()
        await self.send(text_data=html)

    async def disconnect(self, code):
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Screens act over HTTP; anything sent here is ignored."""

    async def html_push(self, event):
        await self.send(text_data=event["html"])

    @database_sync_to_async
    def current_state(self):
        with translation.override(self.language):
            return self.render_state()


class TableConsumer(HtmlPushConsumer):
    """`/ws/t/<token>/`: the phones at one table; they see only their own tab."""

    refuse_code = NOT_FOUND

    @database_sync_to_async
    def authorize(self):
        try:
            table = selectors.table_by_token(self.scope["url_route"]["kwargs"]["token"])
        except Http404:
            return None
        self.tab = services.tab_for_table(table)
        return [realtime.tab_group(self.tab.pk), realtime.MENU]

    def render_state(self):
        return realtime.render_cart(self.tab.pk) + realtime.render_tab(self.tab.pk)


class KitchenConsumer(HtmlPushConsumer):
    """`/ws/kitchen/` and `/ws/kitchen/<station>/`: staff with the kitchen (or manager) role."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        if not has_role(self.scope.get("user"), KITCHEN):
            return None
        slug = self.scope["url_route"]["kwargs"].get("station")
        if slug is None:
            self.station = None
            return [realtime.KITCHEN]
        self.station = Station.objects.filter(slug=slug).first()
        return [realtime.station_group(slug)] if self.station else None

    def render_state(self):
        return realtime.render_board(self.station)


class PassConsumer(HtmlPushConsumer):
    """`/ws/pass/`: the runners' screen of ready dishes; kitchen role."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self):
        return [realtime.PASS] if has_role(self.scope.get("user"), KITCHEN) else None

    def render_state(self):
        return realtime.render_pass()
