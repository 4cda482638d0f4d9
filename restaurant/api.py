"""API v1: JSON over the same services as the pages. OpenAPI document at /api/v1/docs.

Every error answers `{"error": "<stable code>", "message": "<for people>", …}`: the services'
OrderError as it is, a bad body as `400 invalid` (not ninja's default 422), an unknown table as
`404 not_found`.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from menu.api import router as menu_router
from menu.services import MenuError
from orders.api import router as orders_router
from orders.services import OrderError

api = NinjaAPI(title="Diancan API", version="1", urls_namespace="api-v1", docs_url="/docs")

api.add_router("", menu_router)
api.add_router("", orders_router)

HTTP_ERROR_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found"}


def _error(request, status, code, message, **extra):
    return api.create_response(request, {"error": code, "message": message, **extra}, status=status)


@api.exception_handler(OrderError)
def order_error(request, exc):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(MenuError)
def menu_error(request, exc):
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(ValidationError)
def invalid_body(request, exc):
    """Wrong types or missing fields: 400 (not ninja's 422) with each problem spelled out."""
    problems = []
    for error in exc.errors:
        # ("body", "payload", "lines", 0, "quantity") reads as "lines.0.quantity".
        where = list(error.get("loc", ()))
        if where[:1] == ["body"]:
            where = where[2:] if where[1:2] == ["payload"] else where[1:]
        where = ".".join(str(part) for part in where) or "body"
        problems.append(f"{where}: {error.get('msg')}")
    message = _("The request is not valid: %(problems)s.") % {"problems": "; ".join(problems)}
    return _error(request, 400, "invalid", message, detail=exc.errors)


@api.exception_handler(HttpError)
def http_error(request, exc):
    """Ninja's own refusals; a 400 from ninja itself is a body it could not parse as JSON."""
    if exc.status_code == 400:
        message = _("The request body must be a JSON object.")
        return _error(request, 400, "invalid", message, detail=[{"msg": exc.message}])
    return _error(
        request, exc.status_code, HTTP_ERROR_CODES.get(exc.status_code, "error"), exc.message
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", str(exc) or _("Not found."))


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    return _error(request, 413, "too_big", _("The request body is too large."))


api.add_router("/", "payments.api.router")
