"""Members' pages: the till's (find, join, statement, top-up and its refund, PIN, freeze,
adjust, erase, export) and the member's own (a private link, opened with the PIN, showing the
member code), and joining from the table's page. Thin: parse, check, call a service, render."""

import csv
import secrets
import time

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders import selectors as order_selectors
from restaurant.lib import parse
from restaurant.lib.errors import Code, Refused
from restaurant.lib.forms import ReasonForm
from restaurant.lib.htmx import refusal
from restaurant.lib.money import yuan
from restaurant.lib.qr import make_qr
from restaurant.lib.roles import CASHIER, MANAGER, has_role, role_required

from .. import providers
from ..gateway_rules import REVERSING
from . import selectors, services, topups
from .forms import (
    AdjustForm,
    JoinForm,
    PinForm,
    PinTryForm,
    TopUpCancelForm,
    TopUpForm,
    TopUpRefundForm,
)
from .models import Member, TopUp

# How long the member's page stays open after the PIN (this browser's session only).
UNLOCKED_SECONDS = 10 * 60


def _member_or_404(member_id: int) -> Member:
    member = selectors.member_by_id(member_id)
    if member is None:
        raise Http404("No such member")
    return member


def _qr_svg(data: str) -> str:
    image = make_qr(data).make_image()
    image.path.attrib.pop("id", None)
    return image.to_string(encoding="unicode")


# The till -------------------------------------------------------------------------------------


@require_GET
@role_required(CASHIER)
def till_members(request):
    """The list and its search; typing or a search by htmx swaps only the list."""
    query = request.GET.get("q", "")
    context = {
        "query": query,
        "found": selectors.members_find(query),
        "is_manager": has_role(request.user, MANAGER),
        "key": secrets.token_hex(12),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "members/till.html#found", context)
    return render(request, "members/till.html", context)


@require_POST
@role_required(CASHIER)
def till_member_new(request):
    """A new member. Without script: to their page. With htmx: the list shows them first and
    the form is empty again (a new key: the same key again, a second tap, is the same member);
    a refusal shows in the form, what was typed kept."""
    try:
        member = services.member_create(**JoinForm.parse(request.POST), user=request.user)
    except Refused as error:
        context = {
            "found": selectors.members_find(""),
            "form_error": error.message,
            "form": request.POST,
            "key": request.POST.get("key", ""),
            "oob": True,
        }
        template = "members/till.html#new-refused" if request.htmx else "members/till.html"
        return render(request, template, context, status=error.status)
    if not request.htmx:
        return redirect("payments:member-detail", member=member.pk)
    context = {
        "found": [member],
        "query": "",
        "key": secrets.token_hex(12),
        "message": _("Member %(number)s made.") % {"number": member.number},
        "made": member,
        "oob": True,
    }
    response = render(request, "members/till.html#new-made", context)
    response["HX-Replace-Url"] = reverse("payments:members")  # the list is no search now
    return response


def _detail(request, member, **extra):
    context = {
        "member": member,
        "moves": selectors.statement(member),
        "top_ups": selectors.top_ups(member),
        "pending": selectors.pending_top_up(member),
        "gateways": providers.qr_gateways(),
        "coupons": selectors.coupons(member),
        "key": secrets.token_hex(12),
        "is_manager": has_role(request.user, MANAGER),
        "link": request.build_absolute_uri(
            reverse("payments:member-page", args=[member.link_token])
        ),
        **extra,
    }
    context["link_qr"] = _qr_svg(context["link"])
    return context


@require_GET
@role_required(CASHIER)
def till_member(request, member):
    member = _member_or_404(member)
    return render(request, "members/member.html", _detail(request, member))


def _top_up(request, member):
    form = TopUpForm.parse(request.POST)
    if form["method"] == TopUp.Method.QR:
        top_up, _created = topups.top_up_start(
            member_id=member.pk,
            amount=form["amount"],
            key=form["key"],
            user=request.user,
            gateway=form["gateway"],
            auth_code=form["auth_code"],
        )
        return _top_up_said(top_up)
    top_up, _created = services.top_up_create(
        member_id=member.pk,
        amount=form["amount"],
        method=form["method"],
        key=form["key"],
        user=request.user,
        terminal_ref=form["terminal_ref"],
    )
    return _top_up_said(top_up)


def _top_up_said(top_up: TopUp) -> str:
    """What the till says of a top-up as it stands (a WeChat Pay or Alipay one may wait)."""
    status = TopUp.Status(top_up.status_now())
    if status == TopUp.Status.SUCCEEDED:
        message = _("Topped up %(amount)s") % {"amount": yuan(top_up.amount)}
        if top_up.bonus:
            message += _(", with %(bonus)s bonus") % {"bonus": yuan(top_up.bonus)}
        return message + "."
    if status == TopUp.Status.PENDING and top_up.by_code and top_up.failure == REVERSING:
        return _(
            "The payment service did not answer. The top-up is being checked and is reversed "
            "if anything was taken: scan again in a minute."
        )
    if status == TopUp.Status.PENDING and top_up.by_code:
        return _("The member is confirming the payment on the phone (用户支付中)…")
    if status == TopUp.Status.PENDING:
        return _("Show the QR code to the member: the balance goes up when they have paid.")
    if status == TopUp.Status.FAILED:
        return _("Not paid: %(reason)s. Nothing was credited.") % {"reason": top_up.failure}
    if status == TopUp.Status.CANCELLED and top_up.by_code:
        return _("The payment service did not answer: nothing was taken. Scan the code again.")
    if status == TopUp.Status.EXPIRED:
        return _("Not paid in time: nothing was credited.")
    return _("Given up: nothing was credited.")


def _top_up_refund(request, member):
    form = TopUpRefundForm.parse(request.POST)
    if not TopUp.objects.filter(pk=form["top_up"], member=member).exists():
        raise Refused(Code.UNKNOWN_TOP_UP)
    top_up = topups.top_up_refund(
        top_up_id=form["top_up"],
        amount=form["amount"],
        reason=form["reason"],
        user=request.user,
        key=form["key"],
    )
    if top_up.by_gateway:
        return _("Top-up refund sent to the payment service: it goes back to the member's account.")
    return _("Top-up refunded: hand the money back.")


def _top_up_cancel(request, member):
    top_up = topups.top_up_cancel(
        top_up_id=TopUpCancelForm.parse(request.POST)["top_up"],
        member_id=member.pk,
        user=request.user,
    )
    return _top_up_said(top_up)


def _pin(request, member):
    pin = PinForm.parse(request.POST)["pin"]
    services.member_pin_set(member_id=member.pk, pin=pin, user=request.user)
    return _("PIN set.")


def _freeze(request, member):
    frozen = request.POST.get("frozen") == "1"
    reason = ReasonForm.parse(request.POST)["reason"]
    services.member_freeze(member_id=member.pk, frozen=frozen, reason=reason, user=request.user)
    return _("Card frozen.") if frozen else _("Card unfrozen.")


def _adjust(request, member):
    form = AdjustForm.parse(request.POST)
    services.member_adjust(
        member_id=member.pk,
        balance=form["balance"],
        points=form["points"],
        reason=form["reason"],
        user=request.user,
        key=form["key"],
    )
    return _("Adjusted.")


def _erase(request, member):
    reason = ReasonForm.parse(request.POST)["reason"]
    services.member_erase(member_id=member.pk, reason=reason, user=request.user)
    return _("Personal data deleted; the amounts stay on the books.")


# Each action, and the partial of members/member.html that holds its form.
ACTIONS = {
    "top-up": (_top_up, "top-up-form"),
    "top-up-refund": (_top_up_refund, "refund-form"),
    "top-up-cancel": (_top_up_cancel, "top-up-pending"),
    "pin": (_pin, "pin-form"),
    "freeze": (_freeze, "freeze-form"),
    "adjust": (_adjust, "adjust-form"),
    "erase": (_erase, "erase-form"),
}


@require_POST
@role_required(CASHIER)
def till_member_act(request, member, action):
    """One of the till's actions on a member. With htmx: the answer swaps the regions that
    changed (figures, forms with a new key, top-ups, coupons, statement, the message); a
    refusal swaps only the form that failed, its message in it and what was typed kept.
    Without script: the whole page, the same message in the same place."""
    member = _member_or_404(member)
    if action not in ACTIONS:
        raise Http404("No such action")
    act, form = ACTIONS[action]
    try:
        message = act(request, member)
    except Refused as error:
        context = _detail(
            request,
            _member_or_404(member.pk),
            failed=action,
            form_error=error.message,
            posted=request.POST,
        )
        if action == "top-up-refund":
            top_up = parse.whole_number(request.POST.get("top_up", ""))
            context["t"] = TopUp.objects.filter(pk=top_up or 0, member=member).first()
            if context["t"] is None:  # no such row on the page: the banner says why
                if request.htmx:
                    return refusal(request, error.message, error.status)
                context["error"] = error.message
        if not request.htmx:
            return render(request, "members/member.html", context, status=error.status)
        context.update(form=f"members/member.html#{form}", oob=True)
        return render(request, "members/member_refused.html", context, status=error.status)
    context = _detail(request, _member_or_404(member.pk), message=message)
    if not request.htmx:
        return render(request, "members/member.html", context)
    return render(request, "members/member_update.html", {**context, "oob": True})


@require_GET
@role_required(CASHIER)
def till_top_up(request, member, top_up):
    """A WeChat Pay or Alipay top-up as it stands, asked every 2 s by the till's page while it
    is pending (a read: the notification or the worker credits it). Swaps the figures, the
    pending region, the top-ups and the statement, never the forms the cashier may be filling."""
    member = _member_or_404(member)
    found = TopUp.objects.filter(pk=top_up, member=member).first()
    if found is None:
        raise Http404("No such top-up")
    said = "" if found.status_now() == TopUp.Status.PENDING else _top_up_said(found)
    context = _detail(request, member, message=said, oob=True)
    return render(request, "members/member_top_up.html", context)


@require_GET
@role_required(MANAGER)
def till_members_export(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="members.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 Chinese names only with the BOM
    writer = csv.writer(response)
    for row in selectors.export_rows():
        writer.writerow(row)
    return response


# The member's own page ------------------------------------------------------------------------


def _member_by_link(link: str) -> Member:
    member = selectors.member_by_link(link)
    if member is None or member.status == Member.Status.ERASED:
        raise Http404("No such member")
    return member


def _unlocked(request, member: Member) -> bool:
    return selectors.card_open_until(request.session, member.pk) > time.time()


def _page_context(request, member, **extra):
    context = {"member": member, "unlocked": _unlocked(request, member), "seconds": 60, **extra}
    if context["unlocked"]:
        code, expires = services.member_code(member)
        context.update(
            code=code,
            code_qr=_qr_svg(code),
            expires=expires,
            seconds=max(int((expires - timezone.now()).total_seconds()), 1),
            **selectors.card_view(member),
        )
    return context


@require_GET
def member_page(request, link):
    """The private link: the PIN opens it; then the member code, balance, points, statement."""
    member = _member_by_link(link)
    return render(request, "members/page.html", _page_context(request, member))


@require_GET
def member_code_part(request, link):
    """The code region again (the page asks as the code turns): a read; nothing is written."""
    member = _member_by_link(link)
    return render(request, "members/page.html#code", _page_context(request, member))


@csrf_exempt  # like the table's pages: the unguessable link is the credential, then the PIN
@require_POST
def member_unlock(request, link):
    member = _member_by_link(link)
    try:
        if not member.pin:
            services.member_pin_set(member_id=member.pk, pin=PinForm.parse(request.POST)["pin"])
        else:
            pin = PinTryForm.parse(request.POST)["pin"]
            services.member_pin_check(member_id=member.pk, pin=pin)
    except Refused as error:
        context = _page_context(request, member, error=error.message)
        return render(request, "members/page.html", context, status=error.status)
    opened = request.session.get("members", {})
    opened[str(member.pk)] = time.time() + UNLOCKED_SECONDS
    request.session["members"] = opened
    return redirect("payments:member-page", link=link)


@csrf_exempt
@require_POST
def member_lock(request, link):
    member = _member_by_link(link)
    opened = request.session.get("members", {})
    opened.pop(str(member.pk), None)
    request.session["members"] = opened
    return redirect("payments:member-page", link=link)


# Joining from the table's page ----------------------------------------------------------------


@csrf_exempt  # the table's token in the URL is the diner's credential, as on the menu
def diner_join(request, token):
    """成为会员 from the pay page: only what the diner chooses to give, and a PIN to open their
    page and pay with it. They go on this table's bill at once (member prices)."""
    table = order_selectors.table_by_token(token)
    tab = order_selectors.current_tab(table)
    context = {"table": table, "token": token, "tab": tab}
    if request.method != "POST":
        return render(request, "members/join.html", context)
    try:
        if not request.POST.get("pin"):
            raise Refused(Code.BAD_PIN)  # a phone's member opens their page with it
        form = JoinForm.parse(request.POST)
        member = services.member_create(**form)
    except Refused as error:
        context.update(error=error.message, form=request.POST)
        return render(request, "members/join.html", context, status=error.status)
    if tab is not None and request.POST.get("on_bill"):
        auth = services.MemberAuth(login=member.number, pin=form["pin"])
        services.tab_member_identify(tab_id=tab.pk, auth=auth)
    opened = request.session.get("members", {})
    opened[str(member.pk)] = time.time() + UNLOCKED_SECONDS
    request.session["members"] = opened
    return redirect(reverse("payments:member-page", args=[member.link_token]) + f"?t={token}")
