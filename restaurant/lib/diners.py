"""A diner's identity: a random key in a long-lived cookie, nothing personal.

The key names the phone, not a person; a table's tab numbers the phones that joined it.
"""

import secrets

DINER_COOKIE = "diancan_diner"
ONE_YEAR = 365 * 24 * 3600


def _valid(key):
    return len(key) == 32 and key.isalnum()


def known_diner_key(request):
    """This browser's diner key from its cookie, or None when it has none (or a bad one)."""
    key = request.COOKIES.get(DINER_COOKIE, "")
    return key if _valid(key) else None


def diner_key(request):
    """This browser's diner key, from its cookie or made now (`remember_diner` sets it)."""
    key = known_diner_key(request)
    if key:
        return key
    if not hasattr(request, "new_diner_key"):
        request.new_diner_key = secrets.token_hex(16)
    return request.new_diner_key


def remember_diner(request, response):
    """Sets the cookie of a key made during this request on its answer."""
    if hasattr(request, "new_diner_key"):
        response.set_cookie(
            DINER_COOKIE, request.new_diner_key, max_age=ONE_YEAR, httponly=True, samesite="Lax"
        )
    return response
