"""The books' screens: the cashier's shift and handover, the handover slip, the manager's day
close and Z report, and the audit trail. Thin: parse, check the role, call a service, render."""

import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from restaurant.lib import parse
from restaurant.lib.audit import AuditEntry
from restaurant.lib.errors import Code, Refused
from restaurant.lib.htmx import refusal
from restaurant.lib.roles import CASHIER, MANAGER, role_required

from ..reports.consumers import alerts_view
from ..reports.reconcile import Kind as Match
from ..reports.reconcile import z_reconciliation
from . import reports, selectors, services

SHIFT_PAGE = "payments/books/shift.html"
DAY_PAGE = "payments/books/day.html"


def _amount(raw: str, *, blank_ok: bool = False) -> Any:
    """A yuan amount typed on a page ("200", "45.5"); None when blank and that is allowed."""
    raw = raw.strip()
    if not raw and blank_ok:
        return None
    value = parse.amount(raw)
    if value is None:
        raise Refused(Code.BAD_AMOUNT)
    return value


def _key(request) -> str:
    """The form's idempotency key (a hidden field, new on every render): a second tap sends the
    same one, and the service answers the first action again. None sent: no key."""
    raw = request.POST.get("key", "")
    if not raw.strip():
        return ""
    key = parse.key(raw)
    if key is None:
        raise Refused(Code.BAD_KEY)
    return key


def _shift_context(request) -> dict[str, Any]:
    return {**selectors.shift_view(request.user.pk), "key": secrets.token_hex(12)}


def _day_context() -> dict[str, Any]:
    return {**selectors.day_view(), **alerts_view(), "key": secrets.token_hex(12)}


def _answer(
    request, page: str, context: Callable[[], dict[str, Any]], act: Callable[[], str]
) -> HttpResponseBase:
    """Run an action; htmx gets the page's main region and the message, a plain form the page.
    A refusal changes nothing and says why, in place (htmx) or on the page."""
    try:
        message = act()
    except Refused as error:
        if request.htmx:
            return refusal(request, error.message, error.status)
        return render(request, page, {**context(), "error": error.message}, status=error.status)
    if not request.htmx:
        return redirect(_page_url(page))
    return render(request, page.replace(".html", "_update.html"), {**context(), "message": message})


def _page_url(page: str) -> str:
    return reverse("payments:shift" if page == SHIFT_PAGE else "payments:day")


# The cashier's shift ---------------------------------------------------------------------------


@require_GET
@role_required(CASHIER)
def shift(request) -> HttpResponse:
    return render(request, SHIFT_PAGE, _shift_context(request))


@require_POST
@role_required(CASHIER)
def shift_open(request) -> HttpResponseBase:
    def act() -> str:
        opened = services.shift_open(
            user=request.user,
            till=request.POST.get("till", ""),
            float_amount=_amount(request.POST.get("float", ""), blank_ok=True),
            key=_key(request),
        )
        return _("Shift opened at till %(till)s.") % {"till": opened.till}

    return _answer(request, SHIFT_PAGE, lambda: _shift_context(request), act)


@require_POST
@role_required(CASHIER)
def shift_cash(request) -> HttpResponseBase:
    def act() -> str:
        services.cash_move(
            user=request.user,
            direction=request.POST.get("direction", ""),
            amount=_amount(request.POST.get("amount", "")),
            reason=request.POST.get("reason", ""),
            key=_key(request),
        )
        return _("Recorded.")

    return _answer(request, SHIFT_PAGE, lambda: _shift_context(request), act)


def _denominations(request) -> dict[str, int]:
    counts = {}
    for face in selectors.DENOMINATIONS:
        raw = request.POST.get(f"n{face}", "").strip()
        if not raw:
            continue
        number = parse.whole_number(raw)
        if number is None:
            raise Refused(Code.BAD_COUNT)
        counts[face] = number
    return counts


@require_POST
@role_required(CASHIER)
def shift_hand_over(request, shift: int) -> HttpResponseBase:
    def act() -> str:
        denominations = _denominations(request)
        # Nothing counted at all is the service's `bad_count`, as the API answers it.
        counted = _amount(request.POST.get("counted", ""), blank_ok=True)
        done = services.shift_hand_over(
            user=request.user,
            shift_id=shift,
            counted=counted,
            denominations=denominations or None,
            reason=request.POST.get("reason", ""),
            left_in_drawer=_amount(request.POST.get("left", ""), blank_ok=True),
            key=_key(request),
        )
        return _("Shift handed over. Cash counted %(counted)s.") % {"counted": done.counted}

    return _answer(request, SHIFT_PAGE, lambda: _shift_context(request), act)


@require_GET
@role_required(CASHIER)
def shift_slip(request, shift: int) -> HttpResponse:
    """The handover slip, for the browser's print dialog on 58 or 80 mm paper."""
    slip = selectors.handover_slip(shift)
    if slip is None:
        raise Http404("No such handed-over shift")
    paper = request.GET.get("paper", "80")
    return render(
        request,
        "payments/books/slip.html",
        {**slip, "paper": paper if paper in ("58", "80") else "80"},
    )


# The manager's day close ----------------------------------------------------------------------


@require_GET
@role_required(MANAGER)
def day(request) -> HttpResponse:
    return render(request, DAY_PAGE, _day_context())


@require_POST
@role_required(MANAGER)
def day_close(request) -> HttpResponseBase:
    which = parse.day(request.POST.get("day", ""))
    if which is None:
        return refusal(request, Refused(Code.INVALID, problems="day").message, 400)
    try:
        services.day_close(
            user=request.user,
            day=which,
            carry_reason=request.POST.get("carry_reason", ""),
            key=_key(request),
        )
    except Refused as error:
        if request.htmx:
            return refusal(request, error.message, error.status)
        return render(
            request, DAY_PAGE, {**_day_context(), "error": error.message}, status=error.status
        )
    target = reverse("payments:z-report", args=[which.isoformat()])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target  # the Z report is a page of its own, for print
        return response
    return redirect(target)


def _reconciliation(day: date) -> dict[str, Any] | None:
    """The day's reconciliation with the gateways (`reports.reconcile.z_reconciliation`, read
    when shown: the gateways publish a day's bill the next morning, after the close); None when
    there is nothing to reconcile (no gateway set up, nothing paid through one)."""
    result = z_reconciliation(day)
    if result is None:
        return None
    counts = [(label, result["kinds"][value]["count"]) for value, label in Match.choices]
    return {**result, "counts": counts}


@require_GET
@role_required(MANAGER)
def z_report(request, day: str) -> HttpResponse:
    which = parse.day(day)
    if which is None:
        raise Http404("No such day")
    return render(
        request,
        "payments/books/z.html",
        {
            "report": reports.z_report(which),
            "day": which,
            "closed_day": selectors.closed_day(which),
            "reconciliation": _reconciliation(which),
        },
    )


# The audit trail ------------------------------------------------------------------------------


def _day(raw: str) -> date | None:
    return parse.day(raw)


@require_GET
@role_required(MANAGER)
def audit(request) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in AuditEntry.Kind.values else ""
    who = request.GET.get("who", "").strip()[:150]
    table = request.GET.get("table", "").strip()[:40]
    text = request.GET.get("q", "").strip()[:100]
    first, last = _day(request.GET.get("from", "")), _day(request.GET.get("to", ""))
    filters: dict[str, object] = {
        "kind": kind, "who": who, "table": table, "text": text, "first": first, "last": last
    }  # fmt: skip
    entries = selectors.audit_search(
        kind=kind, who=who, table=table, text=text, first=first, last=last
    )
    page = Paginator(entries, selectors.AUDIT_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "payments/books/audit.html",
        {
            "page": page,
            "filters": filters,
            "kinds": AuditEntry.Kind.choices,
            "query": query.urlencode(),
        },
    )
