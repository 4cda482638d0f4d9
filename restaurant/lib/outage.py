"""The database out of reach (restarted, failed over, the network to it cut): a clear 503.

A request whose connection breaks, or that finds no connection within the pool's timeout, is
answered 503 `database_unavailable` with `Retry-After`, in the request's language: JSON under
`/api/`, the page's banner (#flash) for htmx, a small page otherwise. It was not half done:
every write is one transaction, which PostgreSQL rolls back when its connection goes, and the
retry is safe because orders and payments are idempotent by their key.

Only the outage errors are answered so (`OperationalError`, `InterfaceError`); an
`IntegrityError` or a `DataError` is a bug and stays a 500. The pool heals by itself: Django's
pool checks each connection it hands out (`CONN_HEALTH_CHECKS`, restaurant/settings.py), so a
connection the restart killed is replaced instead of failing the next request.
"""

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.views import defaults

from restaurant.lib.errors import Code, Refused
from restaurant.lib.htmx import refusal

logger = logging.getLogger("restaurant.outage")

OUTAGE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def unavailable(request: HttpRequest, error: Exception) -> HttpResponseBase:
    """The 503 for `request`, which met `error` (one of OUTAGE). Reads nothing from the database."""
    logger.warning("database unavailable for %s %s: %s", request.method, request.path, error)
    refused = Refused(Code.DATABASE_UNAVAILABLE)
    response: HttpResponseBase
    if request.path.startswith("/api/"):
        response = JsonResponse(refused.as_dict(), status=refused.status)
    elif request.headers.get("HX-Request"):
        response = refusal(request, refused.message, refused.status)
    else:
        page = render_to_string(
            "503.html", {"message": refused.message, "language": get_language()}
        )
        response = HttpResponse(page, status=refused.status)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailable:
    """Middleware: a view (or the session, or the user it loads) that meets an outage answers
    503 instead of a 500 or Django's debug page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if isinstance(exception, OUTAGE):
            return unavailable(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponseBase:
    """handler500: an outage met after the view, where no middleware's process_exception sees
    it (the session saved on the way out, as a staff login does), is the same clear 503."""
    error = sys.exc_info()[1]
    if isinstance(error, OUTAGE):
        return unavailable(request, error)
    return defaults.server_error(request)
