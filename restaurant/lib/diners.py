"""A diner's identity: a random key in a long-lived cookie, nothing personal.

The key names the phone, not a person; a table's tab numbers the phones that joined it. Until a
phone's first write (adding to the cart, paying) its identity is only this cookie: reading the
table's page or connecting its socket writes nothing to the database.
"""

import hashlib
import secrets

from django.http import HttpRequest, HttpResponseBase

DINER_COOKIE = "diancan_diner"
ONE_YEAR = 365 * 24 * 3600


def _valid(key: str) -> bool:
    return len(key) == 32 and key.isalnum()


def diner_marker(key: str) -> str:
    """What marks this phone's lines in the HTML every phone at the table receives ("me"): known
    from the cookie alone, before the phone has a Diner row, and never the key itself (the key
    is what cancels this phone's payment and names its share)."""
    return hashlib.sha256(f"diner-marker:{key}".encode()).hexdigest()[:12]


def known_diner_key(request: HttpRequest) -> str | None:
    """This browser's diner key from its cookie (or made earlier in this request), or None when
    it has none (or a bad one)."""
    key = request.COOKIES.get(DINER_COOKIE, "")
    return key if _valid(key) else getattr(request, "new_diner_key", None)


def diner_key(request: HttpRequest) -> str:
    """This browser's diner key, from its cookie or made now (`remember_diner` sets it)."""
    key = known_diner_key(request)
    if key:
        return key
    made: str | None = getattr(request, "new_diner_key", None)
    if made is None:
        made = secrets.token_hex(16)
        setattr(request, "new_diner_key", made)  # noqa: B010 (HttpRequest declares no such field)
    return made


def remember_diner(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Sets the cookie of a key made during this request on its answer."""
    made: str | None = getattr(request, "new_diner_key", None)
    if made is not None:
        response.set_cookie(DINER_COOKIE, made, max_age=ONE_YEAR, httponly=True, samesite="Lax")
    return response
