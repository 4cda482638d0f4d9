import secrets

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from menu import selectors as menu_selectors
from restaurant.roles import KITCHEN, role_required

from . import realtime, selectors, services

DINER_COOKIE = "diancan_diner"
ONE_YEAR = 365 * 24 * 3600


# Diner pages ----------------------------------------------------------------------------------
#
# Diner POSTs are exempt from CSRF on purpose: a diner's only credential is the unguessable
# table token in the URL, never a cookie, so a forged cross-site request would need the token,
# and with the token anyone can post directly anyway. The exemption lets the menu be rendered
# once and cached for every table and every phone.


def _diner_key(request):
    """This browser's random diner key, from its cookie or made now (and set on the answer)."""
    key = request.COOKIES.get(DINER_COOKIE, "")
    if len(key) == 32 and key.isalnum():
        return key
    if not hasattr(request, "new_diner_key"):
        request.new_diner_key = secrets.token_hex(16)
    return request.new_diner_key


def _remember_diner(request, response):
    if hasattr(request, "new_diner_key"):
        response.set_cookie(
            DINER_COOKIE, request.new_diner_key, max_age=ONE_YEAR, httponly=True, samesite="Lax"
        )
    return response


def _get_tab_for_diner(request, token):
    """The table of this token, its current tab and this phone's diner; 404 for a bad token.

    A POST names the tab its page showed: acting on a tab that has been closed since is refused.
    """
    table = selectors.table_by_token(token)
    tab = services.tab_for_table(table)
    if request.method == "POST":
        shown = request.POST.get("tab")
        if shown and shown != str(tab.pk):
            raise services.OrderError(
                "tab_closed", _("This bill is closed. Please scan the table's code again.")
            )
    diner = services.diner_for_tab(tab=tab, key=_diner_key(request))
    return table, tab, diner


def menu_html():
    """The menu, rendered once per menu version and language and shared by every table."""
    version = menu_selectors.menu_version()
    cache_key = f"menu-html:{version}:{get_language()}"
    html = cache.get(cache_key)
    if html is None:
        html = render_to_string(
            "orders/diner.html#menu", {"categories": menu_selectors.menu_categories()}
        )
        cache.set(cache_key, html, 24 * 3600)
    return html


@require_GET
def diner_page(request, token):
    table, tab, diner = _get_tab_for_diner(request, token)
    context = {
        "table": table,
        "diner": diner,
        "menu_html": menu_html(),
        **selectors.cart_view(tab.pk),
        **selectors.tab_view(tab.pk),
    }
    return _remember_diner(request, render(request, "orders/diner.html", context))


def _diner_action(view):
    """Runs a diner POST; a refused request answers with its message and changes nothing."""

    def wrapper(request, token, *args, **kwargs):
        try:
            return _remember_diner(request, view(request, token, *args, **kwargs))
        except services.OrderError as error:
            if request.htmx:
                response = render(request, "orders/diner.html#flash", {"error": error.message})
                response.status_code = error.status
                response["HX-Retarget"] = "#flash"
                response["HX-Reswap"] = "outerHTML"
                return response
            return render(
                request,
                "orders/error.html",
                {"error": error.message, "token": token},
                status=error.status,
            )

    wrapper.__name__ = view.__name__
    return csrf_exempt(require_POST(wrapper))


def _back_to_table(request, token, context):
    """htmx gets the refreshed cart (and tab); a browser without script goes back to the page."""
    if not request.htmx:
        return redirect("orders:diner", token=token)
    return render(request, "orders/diner_update.html", context)


@_diner_action
def cart_add(request, token):
    table, tab, diner = _get_tab_for_diner(request, token)
    request_line = services.LineRequest(
        dish=_int(request.POST.get("dish")),
        quantity=request.POST.get("quantity", 1),
        # Single choices come as option-<group> radios, multiple ones as options checkboxes.
        options=request.POST.getlist("options")
        + [
            value
            for name in request.POST
            if name.startswith("option-")
            for value in request.POST.getlist(name)
        ],
        note=request.POST.get("note", ""),
    )
    services.cart_add(tab=tab, diner=diner, request=request_line)
    return _back_to_table(
        request, token, {**selectors.cart_view(tab.pk), "message": _("Added to the cart.")}
    )


@_diner_action
def cart_update(request, token, item):
    table, tab, diner = _get_tab_for_diner(request, token)
    services.cart_set_quantity(tab=tab, item_id=item, quantity=request.POST.get("quantity"))
    return _back_to_table(request, token, selectors.cart_view(tab.pk))


@_diner_action
def cart_submit(request, token):
    table, tab, diner = _get_tab_for_diner(request, token)
    order, created = services.cart_submit(
        tab=tab,
        cart_version=request.POST.get("cart_version"),
        guests=request.POST.get("guests"),
        diner=diner,
    )
    message = _("Ordered! The kitchen has your order (round %(n)s).") % {"n": order.number}
    context = {**selectors.cart_view(tab.pk), **selectors.tab_view(tab.pk), "message": message}
    return _back_to_table(request, token, context)


@_diner_action
def diner_rename(request, token):
    table, tab, diner = _get_tab_for_diner(request, token)
    services.diner_rename(diner=diner, nickname=request.POST.get("nickname", ""))
    if not request.htmx:
        return redirect("orders:diner", token=token)
    return render(request, "orders/diner.html#me", {"diner": diner, "tab": tab})


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


# Kitchen screen -------------------------------------------------------------------------------


@require_GET
@role_required(KITCHEN)
def kitchen(request):
    return render(request, "orders/kitchen.html", {"orders": selectors.open_tickets()})


@require_POST
@role_required(KITCHEN)
def kitchen_line_status(request, line):
    try:
        moved = services.line_set_status(
            line_id=line, status=request.POST.get("status"), user=request.user
        )
    except services.OrderError as error:
        response = render(request, "orders/kitchen.html#flash", {"error": error.message})
        response.status_code = error.status
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "outerHTML"
        return response
    if not request.htmx:
        return redirect("orders:kitchen")
    return HttpResponse(realtime.render_ticket_changed(moved.order_id))
