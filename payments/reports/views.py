"""The manager's pages: today at a glance, the reports with a date range and their exports,
and reconciliation. Thin: parse, check the role, ask `figures`/`tables`/`reconcile`, render."""

import hashlib
from datetime import date, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders import figures as order_figures
from restaurant.lib import alerts as kernel_alerts
from restaurant.lib import parse
from restaurant.lib.business_day import business_day, day_bounds
from restaurant.lib.errors import Code, Refused
from restaurant.lib.htmx import refusal
from restaurant.lib.roles import MANAGER, role_required

from ..bills import CHINA, PARSERS
from ..models import GatewayBill, Refund
from ..providers.wechatpay import BillRefused
from . import exports, reconcile, tables
from .consumers import alerts_view
from .figures import Period, read_once

MAX_DAYS = 366
MAX_BILL_FILE = 20 * 1024 * 1024
UNITS = ("day", "week", "month")


def _day(text: str | None, default: date) -> date:
    if not text:
        return default
    which = parse.day(text)
    if which is None:
        raise Refused(Code.BAD_PERIOD, days=MAX_DAYS)
    return which


def _period(request: HttpRequest) -> Period:
    """`?from=2026-12-01&to=2026-12-07` (business days, both included); the last 7 days."""
    today = business_day(timezone.now())
    last = _day(request.GET.get("to"), today)
    first = _day(request.GET.get("from"), last - timedelta(days=6))
    if first > last or (last - first).days >= MAX_DAYS:
        raise Refused(Code.BAD_PERIOD, days=MAX_DAYS)
    return Period.days(first, last)


def _reports_nav(current: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "label": label, "current": name == current}
        for name, (label, _build) in tables.REPORTS.items()
    ]


@require_GET
@role_required(MANAGER)
def report(request: HttpRequest, name: str) -> HttpResponse:
    """One report over a period, as a page, or (`?format=csv|xlsx`) as a file."""
    if name not in tables.REPORTS:
        raise Http404
    unit = request.GET.get("unit") or "day"
    context: dict[str, Any] = {"nav": _reports_nav(name), "name": name, "units": UNITS}
    try:
        if unit not in UNITS:
            raise Refused(Code.BAD_PERIOD, days=MAX_DAYS)
        period = _period(request)
    except Refused as refused:
        context.update(error=refused.message, query=request.GET)
        return render(request, "payments/reports/report.html", context, status=refused.status)
    wanted = request.GET.get("format") or ""
    with read_once():  # the cards and the report read the kept days once
        built = tables.build(name, period, unit)
        page = wanted not in exports.FORMATS
        cards = tables.summary_cards(period) if name == "sales" and page else None
    if not page:
        content = exports.to_csv(built) if wanted == "csv" else exports.to_xlsx(built)
        response = HttpResponse(content, content_type=exports.FORMATS[wanted])
        response["Content-Disposition"] = (
            f'attachment; filename="{exports.filename(built, wanted)}"'
        )
        return response
    context.update(
        report=built,
        period=period,
        unit=unit,
        query=request.GET,
        cards=cards,
    )
    return render(request, "payments/reports/report.html", context)


def _glance() -> dict[str, Any]:
    """Today so far: sales, the floor, the kitchen, and what needs the manager's eye."""
    now = timezone.now()
    today = business_day(now)
    seated, guests, running = order_figures.seated_now()
    start, _end = day_bounds(today)
    alerts: list[str] = []
    left_open = order_figures.bills_open_before(start)
    if left_open:
        alerts.append(
            ngettext(
                "%(n)s bill from an earlier day is still open.",
                "%(n)s bills from earlier days are still open.",
                left_open,
            )
            % {"n": left_open}
        )
    failed = Refund.objects.filter(status=Refund.Status.FAILED, created_at__gte=start).count()
    if failed:
        alerts.append(
            ngettext(
                "%(n)s refund failed today: see the cashier's bills.",
                "%(n)s refunds failed today: see the cashier's bills.",
                failed,
            )
            % {"n": failed}
        )
    # The gateways' bills are not judged here: what reconciliation found wrong, and a bill that
    # never came, are the recorded alerts above these figures (one truth, each raised once).
    return {
        "today": today,
        "cards": tables.summary_cards(Period.days(today)),
        "seated": seated,
        "guests_now": guests,
        "running": running,
        "kitchen_minutes": order_figures.kitchen_minutes_to_ready(now - timedelta(hours=1), now),
        "alerts": alerts,
        "updated": timezone.localtime(now),
        "hours": tables.build("hours", Period.days(today)).charts[0],
    }


@require_GET
@role_required(MANAGER)
def today(request: HttpRequest) -> HttpResponse:
    """Today at a glance; its figures refresh themselves every 30 seconds (htmx)."""
    with read_once():
        context = {"nav": _reports_nav(""), **_glance()}
    if request.headers.get("HX-Request") == "true":
        return render(request, "payments/reports/today.html#glance", context)
    return render(request, "payments/reports/today.html", {**context, **alerts_view()})


@require_POST
@role_required(MANAGER)
def alert_handle(request: HttpRequest, alert: int) -> HttpResponse:
    """Mark an alert handled with a note. Handled already (a second tap, another manager): the
    page shows who handled it, and nothing changes. Every open alerts page hears of it live."""
    htmx = request.headers.get("HX-Request") == "true"
    try:
        handled, now = kernel_alerts.alert_handle(
            alert_id=alert, user=request.user, note=request.POST.get("note", "")
        )
    except kernel_alerts.Alert.DoesNotExist:
        raise Http404 from None
    except Refused as refused:
        if htmx:
            return refusal(request, refused.message, refused.status)
        context = {"nav": _reports_nav(""), **_glance(), **alerts_view(), "error": refused.message}
        return render(request, "payments/reports/today.html", context, status=refused.status)
    if not htmx:
        return redirect("payments:reports-today")
    if now:
        message = _("Alert marked handled.")
    else:
        message = _("%(who)s had handled this alert already.") % {"who": handled.handled_by}
    context = {**alerts_view(), "message": message}
    return render(request, "payments/reports/alerts_update.html", context)


@require_http_methods(["GET", "POST"])
@role_required(MANAGER)
def reconciliation(request: HttpRequest) -> HttpResponse:
    """A gateway day's reconciliation; POST `upload` keeps a bill file, POST `check` asks the
    gateways about what they have and we do not."""
    default = timezone.now().astimezone(CHINA).date() - timedelta(days=1)
    source = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {"nav": _reports_nav(""), "providers": list(PARSERS)}
    status = 200
    day = default
    try:
        day = _day(source.get("day"), default)
        if request.method == "POST" and source.get("action") == "upload":
            _upload(request, day)
            return redirect(reverse("payments:reconcile") + f"?day={day}&uploaded=1")
        if request.method == "POST" and source.get("action") == "check":
            outcomes = reconcile.reconcile_check(day=day)
            recorded = sum(1 for _item, outcome in outcomes if outcome == "recorded")
            return redirect(reverse("payments:reconcile") + f"?day={day}&recorded={recorded}")
    except Refused as refused:
        context["error"] = refused.message
        status = refused.status
    result = reconcile.reconcile_day(day)
    context.update(
        day=day,
        result=result,
        kinds=[(kind, result.of(kind)) for kind in reconcile.Kind],
        uploaded=request.GET.get("uploaded"),
        recorded=request.GET.get("recorded"),
    )
    return render(request, "payments/reports/reconcile.html", context, status=status)


def _upload(request: HttpRequest, day: date) -> GatewayBill:
    """Parse and keep the gateway's bill file the manager downloaded from its merchant site."""
    provider = request.POST.get("provider", "")
    upload = request.FILES.get("file")
    name = str(tables.PROVIDERS.get(provider, provider))
    if provider not in PARSERS or upload is None:
        raise Refused(
            Code.BAD_BILL_FILE, gateway=name, day=day, problem=_("choose the gateway and the file")
        )
    if upload.size is None or upload.size > MAX_BILL_FILE:
        raise Refused(Code.TOO_BIG)
    data = upload.read()
    try:
        content: Any = data if provider == "alipay" else data.decode("utf-8-sig")
        rows, totals = PARSERS[provider](content)
    except (BillRefused, UnicodeDecodeError, KeyError, ValueError, StopIteration) as error:
        raise Refused(Code.BAD_BILL_FILE, gateway=name, day=day, problem=str(error)) from None
    other = sorted({row["time"][:10] for row in rows if not row["time"].startswith(str(day))})
    if other:
        raise Refused(
            Code.BAD_BILL_FILE,
            gateway=name,
            day=day,
            problem=_("it lists trades of %(days)s") % {"days": ", ".join(other)},
        )
    bill, _created = GatewayBill.objects.update_or_create(
        provider=provider,
        bill_date=day,
        defaults={
            "rows": rows,
            "totals": totals,
            "digest": hashlib.sha256(data).hexdigest(),
            "fetched_at": timezone.now(),
        },
    )
    return bill
