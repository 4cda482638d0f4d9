"""The members' sockets (restaurant.lib.realtime.StreamConsumer): the member's own card and the
till's page of a member follow the member's stream, `member.<id>`.

The card's socket is the member's alone: the private link names the card, and only a browser
whose session opened that card with its PIN (and not longer than the PIN keeps it open) may
follow it. Anyone else, another member's open card included, is refused. When the card closes
(its time is up, "close my card" on this phone, or the member's data is deleted) the socket
tells the page and closes: a phone left on a table stops showing the figures. A deleted card
says it no longer exists, with no button back to a link that now answers 404."""

import asyncio
import time
from functools import partial
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.template.loader import render_to_string

from restaurant.lib.realtime import DENIED, Event, StreamConsumer
from restaurant.lib.roles import CASHIER, has_role

from . import realtime, selectors

CARD_CLOSED = 4403  # htmx does not reconnect after a 4xxx close


class MemberCardConsumer(StreamConsumer):
    """`/ws/m/<link>/`: the member's own card, on the phone that opened it with the PIN."""

    refuse_code = DENIED
    view = realtime.CARD
    member_id = 0
    link = ""
    session_key: str | None = None
    closer: asyncio.TimerHandle | None = None

    async def authorize(self) -> list[str] | None:
        until = await database_sync_to_async(self.opened)()
        if until is None:
            return None
        self.close_at(until)
        return [realtime.member_stream(self.member_id)]

    def close_at(self, until: float) -> None:
        self.closer = asyncio.get_running_loop().call_later(
            max(until - time.time(), 0), lambda: asyncio.ensure_future(self.expire())
        )

    async def expire(self) -> None:
        """The card's time is up, unless the PIN opened it again meanwhile (another tab)."""
        until = await database_sync_to_async(self.open_until)()
        if until > time.time():
            self.close_at(until)
        else:
            await self.close_card()

    def opened(self) -> float | None:
        """Until when this socket's session has the link's card open; None: it has not."""
        self.link = self.scope["url_route"]["kwargs"]["link"]
        member = selectors.member_by_link(self.link)
        session = self.scope.get("session")
        if member is None or member.is_erased or session is None:
            return None
        until = selectors.card_open_until(session, member.pk)
        if until <= time.time():
            return None
        self.member_id, self.session_key = member.pk, session.session_key
        return until

    async def disconnect(self, code: int) -> None:
        if self.closer is not None:
            self.closer.cancel()
        await super().disconnect(code)

    def open_until(self) -> float:
        """Until when the session has this card open now, and the link still names its member
        (0: no more): read again on every push and when the time is up, so a card closed on
        the phone or deleted stops hearing at once."""
        member = selectors.member_by_link(self.link)
        if member is None or member.pk != self.member_id or member.is_erased:
            return 0.0
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=self.session_key)
        return selectors.card_open_until(store, self.member_id)

    def still_open(self) -> bool:
        return self.open_until() > time.time()

    async def show(self, event: Event) -> bool:
        if not await database_sync_to_async(self.still_open)():
            await self.close_card()
            return False
        return await super().show(event)

    def card_gone(self) -> bool:
        """The member's data was deleted: the link names no card any more (it would answer
        404), so the closed card offers no "open my card" button but says the card is gone."""
        member = selectors.member_by_link(self.link)
        return member is None or member.pk != self.member_id or member.is_erased

    async def close_card(self) -> None:
        """The page's card region says it is closed (or gone); then the socket closes for good."""
        if await database_sync_to_async(self.card_gone)():
            html = await self.render(("gone",), partial(render_card_closed, ""))
        else:
            html = await self.render(("closed", self.link), partial(render_card_closed, self.link))
        try:
            await self.send(text_data=html)
            await self.close(code=CARD_CLOSED)
        except Exception:  # the socket had closed already
            return

    def render_state(self, stream: str) -> str:
        return realtime.render_card(self.member_id)

    def render_event(self, event: dict[str, Any]) -> str:
        return realtime.render_card(self.member_id)


def render_card_closed(link: str) -> str:
    """The closed card; without a link, the card that no longer exists."""
    return render_to_string("members/page.html#closed", {"link": link, "oob": True})


class TillMemberConsumer(StreamConsumer):
    """`/ws/cashier/members/<id>/`: the till's page of one member; cashiers and managers."""

    refuse_code = DENIED
    view = realtime.TILL

    @database_sync_to_async
    def authorize(self) -> list[str] | None:
        if not has_role(self.scope.get("user"), CASHIER):
            return None
        self.member_id = self.scope["url_route"]["kwargs"]["member"]
        if selectors.member_by_id(self.member_id) is None:
            return None
        return [realtime.member_stream(self.member_id)]

    def render_state(self, stream: str) -> str:
        return realtime.render_till(self.member_id)

    def render_event(self, event: dict[str, Any]) -> str:
        return realtime.render_till(self.member_id)
