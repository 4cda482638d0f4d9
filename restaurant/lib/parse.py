"""What people and clients send, read in one place at the edge.

Numbers and amounts are ASCII digits only: Python's `int()` and `Decimal()` also take other
scripts' digits ("５", "١٠") and `str.isdigit()` says yes to "²", which `int()` then refuses,
so each of them alone either lets a number in that no till would print or crashes a view.
Booleans are JSON's true and false, never "yes". Text never carries a NUL character
(PostgreSQL cannot store one): `RefuseNul` answers such a request with 400 before any view,
and `RefuseNulSockets` closes a socket whose address or text message carries one (code 4400)
before any consumer reads it.
"""

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase, JsonResponse

from restaurant.lib.errors import Code, Refused
from restaurant.lib.htmx import refusal

DIGITS = re.compile(r"[0-9]+")
AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The days a restaurant's books can name. Python's dates end at 9999-12-31 and begin at
# 0001-01-01: a report, a Z report or an audit search of a day near either end computed the day
# after (or the week before) and crashed; no business day of ours is outside these.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
NUL = "\x00"


def whole_number(value: object) -> int | None:
    """A non-negative int from an int or a string of ASCII digits (spaces around allowed), or
    None for anything else (a bool, a float, "-1", "５", "²", "1e3", "")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


def amount(value: object) -> Decimal | None:
    """Yuan with at most two decimals, `"12.50"` or `12`, as a Decimal; None for anything else
    (a float, a sign, a third decimal, other scripts' digits, text)."""
    if isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not AMOUNT.fullmatch(value.strip()):
        return None
    return Decimal(value.strip())


def day(value: object) -> date | None:
    """A business day as `2026-12-01` (ASCII digits, spaces around allowed) from FIRST_DAY to
    LAST_DAY, or None for anything else (`20261201`, `2026-W48-1`, `9999-12-31`, `2026-02-30`)."""
    text = value.strip() if isinstance(value, str) else ""
    if not DAY.fullmatch(text):
        return None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        return None
    return found if FIRST_DAY <= found <= LAST_DAY else None


def key(value: object) -> str | None:
    """An idempotency key: 1 to 64 characters, spaces around dropped; None for anything else."""
    text = value.strip() if isinstance(value, str) else ""
    return text if 0 < len(text) <= 64 else None


def _carries_nul(data: object) -> bool:
    if isinstance(data, str):
        return NUL in data
    if isinstance(data, dict):
        return any(_carries_nul(key) or _carries_nul(value) for key, value in data.items())
    if isinstance(data, list):
        return any(_carries_nul(item) for item in data)
    return False


def carries_nul(request: HttpRequest) -> bool:
    """Does any field of the query, the form or the JSON body hold a NUL character?"""
    fields = [*request.GET.lists()]
    if request.method in ("POST", "PUT", "PATCH"):
        if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            fields += [*request.POST.lists()]
        else:
            try:
                body = json.loads(request.body or b"null")
            except (ValueError, UnicodeDecodeError, RequestDataTooBig):
                body = None  # not JSON, or too big: the view refuses it as it is
            if _carries_nul(body):
                return True
    return any(_carries_nul(key) or _carries_nul(values) for key, values in fields)


class RefuseNul:
    """Middleware: a request with a NUL character in any field gets 400 and changes nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not carries_nul(request):
            return self.get_response(request)
        refused = Refused(Code.NUL_IN_TEXT)
        if request.path.startswith("/api/"):
            return JsonResponse(refused.as_dict(), status=400)
        if request.headers.get("HX-Request"):
            return refusal(request, refused.message, 400)
        return HttpResponseBadRequest(refused.message, content_type="text/plain; charset=utf-8")


NUL_CLOSE = 4400  # a WebSocket close code of the 4xxx range: htmx does not reconnect after it


def _address_carries_nul(scope: dict[str, Any]) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    return NUL in scope.get("path", "") or NUL in unquote(query, encoding="latin-1")


class RefuseNulSockets:
    """ASGI middleware for the WebSocket stack (restaurant/asgi.py), RefuseNul's twin.

    A handshake whose path or query carries a NUL is refused before the consumer is reached (it
    would look the table's token up with it); a text message carrying one closes the socket.
    Screens send nothing that is read today (they act over HTTP), so the message check guards
    what any later consumer might read. Binary frames are not text and are left alone.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        if _address_carries_nul(scope):
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": NUL_CLOSE})
            return None

        async def checked() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "websocket.receive" and NUL in (message.get("text") or ""):
                await send({"type": "websocket.close", "code": NUL_CLOSE})
                return {"type": "websocket.disconnect", "code": NUL_CLOSE}
            return message

        return await self.app(scope, checked, send)
