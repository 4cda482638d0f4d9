"""API v1: JSON over the same services as the pages. OpenAPI document at /api/v1/docs.

Every error answers `{"error": "<stable code>", "message": "<for people>", …}`, its code from
restaurant/lib/errors.py: a refusal of a service as it is, a bad body as `400 invalid` (not
ninja's default 422), an unknown table as `404 not_found`.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from menu.api import router as menu_router
from orders.api import router as orders_router
from restaurant.lib import outage
from restaurant.lib.errors import CODES, Code, Refused

api = NinjaAPI(title="Diancan API", version="1", urls_namespace="api-v1", docs_url="/docs")

api.add_router("", menu_router)
api.add_router("", orders_router)

HTTP_ERROR_CODES = {401: Code.UNAUTHORIZED, 403: Code.FORBIDDEN, 404: Code.NOT_FOUND}


def _answer(request, refused):
    return api.create_response(request, refused.as_dict(), status=refused.status)


@api.exception_handler(Refused)
def refused(request, exc):
    return _answer(request, exc)


@api.exception_handler(ValidationError)
def invalid_body(request, exc):
    """Wrong types or missing fields: 400 (not ninja's 422) with each problem spelled out. A
    field that its schema type refused with a code (restaurant/lib/schemas.py) answers that
    code, as a page does, when it is the body's only kind of problem."""
    coded = [error for error in exc.errors if error.get("type") in CODES]
    if coded and len(coded) == len(exc.errors):
        return _answer(request, Refused(CODES[coded[0]["type"]], **coded[0].get("ctx", {})))
    problems = []
    for error in exc.errors:
        # ("body", "payload", "lines", 0, "quantity") reads as "lines.0.quantity".
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"]:
            loc = loc[2:] if loc[1:2] == ["payload"] else loc[1:]
        where = ".".join(str(part) for part in loc) or "body"
        problems.append(f"{where}: {error.get('msg')}")
    return _answer(
        request, Refused(Code.INVALID, problems="; ".join(problems), extra={"detail": exc.errors})
    )


@api.exception_handler(HttpError)
def http_error(request, exc):
    """Ninja's own refusals; a 400 from ninja itself is a body it could not parse as JSON."""
    if exc.status_code == 400:
        problem = _("the body must be a JSON object")
        return _answer(
            request,
            Refused(Code.INVALID, problems=problem, extra={"detail": [{"msg": exc.message}]}),
        )
    code = HTTP_ERROR_CODES.get(exc.status_code)
    if code is None:
        return api.create_response(
            request, {"error": "error", "message": exc.message}, status=exc.status_code
        )
    return _answer(request, Refused(code))


def database_unavailable(request, exc):
    """The database out of reach: 503 `database_unavailable` (restaurant/lib/outage.py)."""
    return outage.unavailable(request, exc)


for _outage_error in outage.OUTAGE:
    api.add_exception_handler(_outage_error, database_unavailable)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _answer(request, Refused(Code.NOT_FOUND))


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    return _answer(request, Refused(Code.TOO_BIG))


api.add_router("/", "payments.api.router")
api.add_router("/", "payments.books.api.router")
