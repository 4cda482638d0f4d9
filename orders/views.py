import re
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from menu import selectors as menu_selectors
from menu.services import dish_set_availability
from restaurant.lib.approvals import NEEDS_MANAGER, Approval, approval_form
from restaurant.lib.compression import Deflated, deflate, keep_deflated
from restaurant.lib.diners import diner_key, diner_marker, known_diner_key, remember_diner
from restaurant.lib.errors import Code, Refused
from restaurant.lib.forms import ReasonForm
from restaurant.lib.htmx import refusal
from restaurant.lib.roles import CASHIER, KITCHEN, has_role, role_required
from restaurant.lib.static_text import static_text

from . import realtime, selectors, services
from .forms import (
    CartAddForm,
    CartQuantityForm,
    CartSubmitForm,
    LineStatusForm,
    StockForm,
    VisitForm,
)
from .models import OrderLine

# Diner pages ----------------------------------------------------------------------------------
#
# Diner POSTs are exempt from CSRF on purpose: a diner's only credential is the unguessable
# table token in the URL, never a cookie, so a forged cross-site request would need the token,
# and with the token anyone can post directly anyway. The exemption lets the menu be rendered
# once and cached for every table and every phone.


def _get_tab_for_diner(request, token):
    """For a diner's POST: the table of this token, the visit it acts on and this phone's diner
    (numbered now if this is its first write at the tab); 404 for a bad token.

    A POST acts on the visit its page showed (the `tab` field): a page, cart or phone of a
    visit that has ended since is refused, with or without the field (services.tab_for_visit).
    A page that showed no visit opens one (TABLE_OPENING=diner, or staff) or joins the current.
    """
    table = selectors.table_by_token(token)
    tab = services.tab_for_visit(
        table=table,
        shown=VisitForm.parse(request.POST)["tab"],
        diner_key=known_diner_key(request),
        staff=has_role(request.user, KITCHEN, CASHIER),
    )
    diner = services.diner_for_tab(tab=tab, key=diner_key(request))
    return table, tab, diner


BLANK_RUNS = re.compile(r"[ \t]*\n[ \t\n]*")


@lru_cache(maxsize=8)
def menu_html(version: str, language: str) -> str:
    """The menu of this version in this language, shared by every table: rendered once, kept in
    Redis for every process and in this process's memory (fetching its 55 KB from Redis was a
    tenth of a page's time). Any change a diner's menu shows (a dish sold out, its last
    portion sold, a price) moves the version, so a kept menu is never shown after a change."""
    cache_key = f"menu-html:{version}:{language}"
    html = cache.get(cache_key)
    if html is None:
        with translation.override(language):
            html = render_to_string(
                "orders/diner.html#menu", {"categories": menu_selectors.menu_categories()}
            )
        # The template's indentation is a quarter of its bytes: one line break keeps the same
        # meaning in HTML (the menu has no <pre> or <textarea>) for less to send and parse.
        html = mark_safe(BLANK_RUNS.sub("\n", html))  # noqa: S308 (rendered, escaped above)
        cache.set(cache_key, html, 24 * 3600)
    return html


@lru_cache(maxsize=8)
def menu_deflated(version: str, language: str) -> Deflated:
    """The menu compressed once, for gzip to take as it is (restaurant/lib/compression.py)."""
    return deflate(menu_html(version, language))


@lru_cache(maxsize=1)
def stylesheet_deflated() -> Deflated:
    """The stylesheet the diner page carries inline (`inline_static`), compressed once."""
    return deflate(static_text("css/app.css"))


@require_GET
def diner_page(request, token):
    """The table's page. A read: it opens no tab and numbers no phone (the first POST does);
    the phone's identity is its cookie until then."""
    visit = selectors.table_visit(token, known_diner_key(request))
    table, tab = visit.table, visit.tab
    staff = has_role(request.user, KITCHEN, CASHIER)
    if tab is None and settings.TABLE_OPENING == "staff" and not staff:
        error = Refused(Code.TABLE_NOT_OPEN)  # a clear page, not an error
        return render(request, "orders/error.html", {"error": error.message, "token": token})
    version, language = visit.menu_version or menu_selectors.menu_version(), get_language()
    if tab is not None:
        parts = realtime.tab_parts(tab, version, language)
    else:
        parts = realtime.no_tab_parts(language)
    context = {
        "table": table,
        "diner": visit.diner,
        "me": diner_marker(diner_key(request)),
        "menu_html": menu_html(version, language),
        "staff": has_role(request.user, CASHIER),
        "can_open": tab is None and staff,  # 开台
        "tab": tab,
        **parts,
    }
    response = render(request, "orders/diner.html", context)
    keep_deflated(response, stylesheet_deflated(), menu_deflated(version, language))
    return remember_diner(request, response)


@require_GET
def dish_options(request, token, dish):
    """A dish's options, quantity and note: fetched into its menu card when tapped, so that the
    menu carries no form per dish; without script (or before it has loaded) the card's link
    opens this as a page of its own, whose form adds to the cart and goes back to the table."""
    table = selectors.table_by_token(token)
    card = menu_selectors.dish_card(dish)
    if card is None:
        raise Http404
    context = {"dish": card, "cart_url": reverse("orders:cart-add", args=[token])}
    if request.htmx:  # into the card, inside the page's menu (its tab comes by hx-include)
        return render(request, "orders/diner.html#dish-options", context)
    tab = selectors.current_tab(table)
    if (
        tab is None
        and settings.TABLE_OPENING == "staff"
        and not has_role(request.user, KITCHEN, CASHIER)
    ):
        error = Refused(Code.TABLE_NOT_OPEN)  # as the table's own page says
        return render(request, "orders/error.html", {"error": error.message, "token": token})
    return render(request, "orders/dish.html", {**context, "table": table, "tab": tab})


@require_POST
@role_required(KITCHEN, CASHIER)
def table_open(request, token):
    """开台: staff open a free table's visit, so that its phones can order."""
    services.tab_for_table(table=selectors.table_by_token(token))
    return redirect("orders:diner", token=token)


def _diner_action(view):
    """Runs a diner POST; a refused request answers with its message and changes nothing: one
    transaction, so a visit opened or a phone numbered on the way to a refusal (an unknown
    dish, a quantity of 0) is rolled back with it. Nothing here calls a gateway."""

    def wrapper(request, token, *args, **kwargs):
        try:
            with transaction.atomic():
                response = view(request, token, *args, **kwargs)
            return remember_diner(request, response)
        except Refused as error:
            if request.htmx:
                return refusal(request, error.message, error.status)
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
    form = CartAddForm.posted(request.POST)
    table, tab, diner = _get_tab_for_diner(request, token)
    request_line = services.LineRequest(
        dish=form["dish"],
        quantity=form["quantity"],
        options=form["options"],
        note=form["note"],
        hold=form["hold"],
    )
    services.cart_add(tab=tab, diner=diner, request=request_line)
    context = {**selectors.cart_view(tab.pk), "diner": diner, "message": _("Added to the cart.")}
    return _back_to_table(request, token, context)


@_diner_action
def cart_update(request, token, item):
    form = CartQuantityForm.parse(request.POST)
    table, tab, diner = _get_tab_for_diner(request, token)
    services.cart_set_quantity(tab=tab, item_id=item, quantity=form["quantity"])
    return _back_to_table(request, token, selectors.cart_view(tab.pk))


@_diner_action
def cart_submit(request, token):
    form = CartSubmitForm.parse(request.POST)
    table, tab, diner = _get_tab_for_diner(request, token)
    order, created = services.cart_submit(
        user=request.user if has_role(request.user, KITCHEN, CASHIER) else None,
        tab=tab,
        cart_version=form["cart_version"],
        guests=form["guests"],
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


@_diner_action
def line_urge(request, token, line):
    table, tab, diner = _get_tab_for_diner(request, token)
    services.line_urge(tab=tab, line_id=line, diner=diner)
    context = {**selectors.tab_view(tab.pk), "message": _("The kitchen has been asked to hurry.")}
    if not request.htmx:
        return redirect("orders:diner", token=token)
    return render(request, "orders/diner_update.html", {**selectors.cart_view(tab.pk), **context})


# Staff ----------------------------------------------------------------------------------------


def _staff_answer(request, view, *args, back="orders:kitchen", **kwargs):
    """Run a staff action; a refusal answers with its message in the page's flash region."""
    try:
        result = view(*args, **kwargs)
    except Refused as error:
        if not request.htmx:
            return render(
                request, "orders/staff_error.html", {"error": error.message}, status=error.status
            )
        return refusal(request, error.message, error.status)
    if not request.htmx:
        return redirect(_same_site(request, request.POST.get("next")) or back)
    return result


def _same_site(request, url):
    """`next` only when it is a path on this site: never a redirect to another one."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _remember_bump(request, *lines):
    """This screen's last bumps, newest last, for 'recall'."""
    stack = request.session.get("kitchen_bumps", [])
    stack.extend([line.pk, line.from_status, str(line.status)] for line in lines)
    request.session["kitchen_bumps"] = stack[-20:]


def _station(request):
    slug = request.POST.get("station") or request.GET.get("station")
    return selectors.station_by_slug(slug) if slug else None


@require_GET
@role_required(KITCHEN)
def kitchen(request, station=None):
    station = selectors.station_by_slug(station) if station else None
    context = {**selectors.board_view(station), "stations": selectors.stations()}
    return render(request, "orders/kitchen.html", context)


@require_GET
@role_required(KITCHEN)
def kitchen_done(request):
    station = _station(request)
    context = {
        "orders": selectors.done_tickets(station),
        "station": station,
        "stations": selectors.stations(),
    }
    return render(request, "orders/kitchen_done.html", context)


@require_POST
@role_required(KITCHEN)
def kitchen_line_bump(request, line):
    def bump():
        moved = services.line_bump(line_id=line, user=request.user)
        _remember_bump(request, moved)
        return HttpResponse(status=204)

    return _staff_answer(request, bump)


@require_POST
@role_required(KITCHEN)
def kitchen_ticket_bump(request, order):
    def bump():
        moved = services.ticket_bump(order_id=order, station=_station(request), user=request.user)
        _remember_bump(request, *moved)
        return HttpResponse(status=204)

    return _staff_answer(request, bump)


@require_POST
@role_required(KITCHEN)
def kitchen_ticket_clear(request, order):
    """A ticket left only for its voided dishes: the cook has seen them, it leaves the boards."""

    def clear():
        services.ticket_clear(order_id=order, station=_station(request), user=request.user)
        return HttpResponse(status=204)

    return _staff_answer(request, clear)


@require_POST
@role_required(KITCHEN)
def kitchen_recall(request):
    """Undo this screen's last bump: the line goes back where it was, if nobody moved it since."""

    def recall():
        stack = request.session.get("kitchen_bumps", [])
        if not stack:
            raise Refused(Code.NOTHING_TO_RECALL)
        line_id, before, after = stack.pop()
        request.session["kitchen_bumps"] = stack
        services.line_set_status(
            line_id=line_id,
            status=OrderLine.Status(before),
            expect=OrderLine.Status(after),
            user=request.user,
            reason="recall",
        )
        return HttpResponse(status=204)

    return _staff_answer(request, recall)


@require_POST
@role_required(KITCHEN, CASHIER)
def kitchen_line_status(request, line):
    """A named move: fire a held dish, bring a done one back, mark one served (the pass)."""

    def move():
        form = LineStatusForm.parse(request.POST)
        services.line_set_status(
            line_id=line, status=form["status"], expect=form["expect"], user=request.user
        )
        return HttpResponse(status=204)

    return _staff_answer(request, move)


@require_POST
@role_required(CASHIER)
def line_void(request, line):
    """退菜 from the staff table page. A void that needs a manager (a dish already served)
    answers with the approval fields on this same page, as the cashier's screen does
    (templates/approval.html): the manager types their login there, a wrong one is refused in
    place, and the void goes through once approved."""
    approval = Approval.from_post(request)

    def void():
        try:
            services.line_void(
                line_id=line,
                reason=ReasonForm.parse(request.POST)["reason"],
                user=request.user,
                approval=approval,
            )
        except Refused as error:
            if error.code not in NEEDS_MANAGER or not request.htmx:
                raise
            cancel = _same_site(request, request.headers.get("HX-Current-URL"))
            return approval_form(
                request,
                error,
                what=_("Void (退菜)"),
                cancel=cancel or reverse("orders:staff-tables"),
            )
        if approval and request.htmx:  # the approval fields close; the banner says it is done
            return HttpResponse(
                render_to_string("approval.html", {"oob": True}, request)
                + render_to_string(
                    "flash.html", {"message": _("The dish is taken off the bill.")}, request
                )
            )
        return HttpResponse(status=204)

    return _staff_answer(request, void)


@require_GET
@role_required(KITCHEN)
def pass_screen(request):
    return render(request, "orders/pass.html", {"tables": selectors.pass_tables()})


@require_http_methods(["GET", "POST"])
@role_required(KITCHEN)
def kitchen_stock(request):
    """估清: mark dishes sold out or set how many portions are left."""
    station = _station(request)
    if request.method == "POST":

        def update():
            form = StockForm.parse(request.POST)
            dish = dish_set_availability(
                dish_id=form["dish"],
                sold_out=form["sold_out"],
                stock=form["stock"],
                unlimited=form["unlimited"],
                user=request.user,
            )
            return render(
                request, "orders/kitchen_stock.html#dish-row", {"dish": dish, "oob": True}
            )

        return _staff_answer(request, update, back="orders:kitchen-stock")
    context = {
        "dishes": menu_selectors.stock_list(station),
        "station": station,
        "stations": selectors.stations(),
    }
    return render(request, "orders/kitchen_stock.html", context)


@require_GET
@role_required(KITCHEN, CASHIER)
def staff_tables(request):
    """Every table with a link to its ordering page, for staff ordering on a guest's behalf."""
    return render(request, "orders/staff_tables.html", {"tables": selectors.active_tables()})
