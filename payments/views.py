"""Pages of the payment side: the cashier's dashboard, the diner's pay page and e-receipt, and
the sandbox gateway's "phone" page. Thin: parse, check, call a service, render."""

import json
import logging
import secrets
import time
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders import selectors as order_selectors
from orders import services as order_services
from orders.settlement import diner_share
from restaurant.lib import parse
from restaurant.lib.approvals import NEEDS_MANAGER, Approval, approval_form
from restaurant.lib.diners import diner_key, known_diner_key, remember_diner
from restaurant.lib.errors import Code, Refused
from restaurant.lib.forms import ReasonForm
from restaurant.lib.htmx import refusal
from restaurant.lib.money import yuan
from restaurant.lib.roles import CASHIER, role_required

from . import conf, providers, selectors, services
from .coupons import services as coupon_services
from .forms import (
    CouponForm,
    DinerPaymentForm,
    DiscountForm,
    MemberAuthForm,
    PaymentForm,
    RefundForm,
)
from .members import services as member_services
from .members.forms import PointsForm
from .members.services import MemberAuth
from .models import Method, Payment, SandboxCharge
from .providers import qr_gateways, sandbox
from .providers.base import GatewayUnknown, NotifyRefused, StartContext
from .providers.wechatpay import GatewayRefusedStart

logger = logging.getLogger("payments")


def new_key():
    return secrets.token_hex(12)


def member_auth(data) -> MemberAuth:
    """The member's code, or their mobile / member number and PIN, as a form sent them."""
    fields = MemberAuthForm.parse(data)
    return MemberAuth(
        code=fields["member_code"], login=fields["member_login"], pin=fields["member_pin"]
    )


def start_context(request, token):
    """Who starts a QR payment: the phone's user agent and address, and its way back."""
    return StartContext(
        user_agent=request.headers.get("User-Agent", "")[:500],
        client_ip=request.META.get("REMOTE_ADDR", ""),
        return_url=settings.PUBLIC_URL + reverse("payments:pay", args=[token]),
        token=token,
    )


def _flash_error(request, template, error, context=None):
    response = render(request, template, {**(context or {}), "error": error.message})
    response.status_code = error.status
    return response


# The pay page's button of each QR gateway.
GATEWAY_LABELS = {
    "wechatpay": gettext_lazy("Pay with WeChat Pay"),
    "alipay": gettext_lazy("Pay with Alipay"),
    "sandbox": gettext_lazy("Pay by QR"),
}


# The diner's pay page -------------------------------------------------------------------------
#
# As on the diner's menu, POSTs are CSRF-exempt on purpose: the unguessable table token in the
# URL is the diner's only credential, never a cookie.


def _diner_tab(token):
    """The table of this token and its current tab (None when nobody is seated); 404 if bad."""
    table = order_selectors.table_by_token(token)
    return table, order_selectors.current_tab(table)


def _diner(request, tab):
    """This phone's diner at the tab, or None when it has not written there yet (a read)."""
    return order_selectors.diner_by_key(tab, known_diner_key(request))


def _diner_joining(request, tab):
    """This phone's diner at the tab, numbered now if paying is its first write there (so the
    bill can say who is paying); the cookie of a new key goes out with the answer."""
    return order_services.diner_for_tab(tab=tab, key=diner_key(request))


def _pay_context(request, tab, **extra):
    diner = _diner(request, tab)
    context = {
        **selectors.pay_view(tab.pk),
        "token": tab.table.token,
        "key": new_key(),
        "diner": diner,
        "mine": diner_share(tab.pk, diner.key) if diner else Decimal(0),
        "gateways": [(provider.name, GATEWAY_LABELS[provider.name]) for provider in qr_gateways()],
    }
    # After a reload the phone that started a QR payment still sees its code and its cancel.
    context["payment"] = next(
        (
            p
            for p in context["payments"]
            if p.status == Payment.Status.PENDING and diner and p.diner_id == diner.pk
        ),
        None,
    )
    return {**context, **extra}


@require_GET
def pay_page(request, token):
    table, tab = _diner_tab(token)
    if tab is None:
        return render(request, "payments/pay.html", {"table": table, "token": token, "tab": None})
    return render(request, "payments/pay.html", _pay_context(request, tab))


def _diner_post(view):
    def wrapper(request, token, *args, **kwargs):
        table, tab = _diner_tab(token)
        if tab is None or (request.POST.get("tab") and request.POST.get("tab") != str(tab.pk)):
            error = Refused(Code.TAB_CLOSED)
            return _flash_error(request, "payments/pay_update.html", error)
        try:
            return remember_diner(request, view(request, tab, *args, **kwargs))
        except Refused as error:
            context = _pay_context(request, tab) if error.code == Code.STALE_VERSION else {}
            return _flash_error(request, "payments/pay_update.html", error, context)

    wrapper.__name__ = view.__name__
    return csrf_exempt(require_POST(wrapper))


def _pay_answer(request, tab, **extra):
    if not request.htmx:
        return redirect("payments:pay", token=tab.table.token)
    return render(request, "payments/pay_update.html", _pay_context(request, tab, **extra))


@_diner_post
def pay_start(request, tab):
    """The phone pays the whole bill, an equal share, or its own dishes, by QR or by member
    balance (mobile or member number and PIN)."""
    form = DinerPaymentForm.parse(request.POST)
    choice = form["choice"]
    settlement, due = services.amount_due(tab.pk)
    diner = _diner(request, tab)
    if choice == Payment.Scope.SHARE:
        amount = services.equal_share(settlement, form["people"])
    elif choice == Payment.Scope.MINE:
        if diner is None:
            raise Refused(Code.NO_DISHES)
        amount = min(diner_share(tab.pk, diner.key), due)
    else:
        amount = due
    if amount <= 0:
        raise Refused(Code.NOTHING_DUE)
    if diner is None:  # paying is this phone's first write at the tab
        diner = _diner_joining(request, tab)
    by_balance = request.POST.get("method") == Method.MEMBER  # the member types their PIN
    payment, _created = services.payment_start(
        tab_id=tab.pk,
        method=Method.MEMBER if by_balance else Method.QR,
        amount=amount,
        version=form["version"],
        key=form["key"],
        diner=diner,
        scope=choice,
        gateway="" if by_balance else form["gateway"],
        context=start_context(request, tab.table.token),
        member=member_auth(request.POST) if by_balance else None,
    )
    return _pay_answer(request, tab, payment=payment)


@_diner_post
def pay_cancel(request, tab, payment):
    # Only the phone that started a payment gives it up; the cashier can cancel any.
    diner = _diner(request, tab)
    started_by = Payment.objects.filter(pk=payment, tab=tab).values_list("diner", flat=True)
    if started_by and started_by[0] is not None and started_by[0] != getattr(diner, "pk", None):
        raise Refused(Code.NOT_YOUR_PAYMENT)
    payment = services.payment_cancel(payment_id=payment, tab_id=tab.pk)
    return _pay_answer(request, tab, payment=payment)


@_diner_post
def pay_coupon(request, tab):
    """A diner types a coupon's code on the phone."""
    code = CouponForm.parse(request.POST)["code"]
    used = coupon_services.coupon_redeem(code=code, tab_id=tab.pk)
    return _pay_answer(
        request, tab, message=_("Coupon %(name)s used.") % {"name": used.coupon.name}
    )


@_diner_post
def pay_at_counter(request, tab):
    services.pay_at_counter(tab_id=tab.pk, diner=_diner_joining(request, tab))
    return _pay_answer(
        request, tab, message=_("The cashier knows: please pay at the counter. Thank you!")
    )


@require_GET
def wechat_jsapi(request, token, reference):
    """A phone inside WeChat paying by WeChat Pay (JSAPI): the payer's openid by the silent
    snsapi_base OAuth (kept in the session), the prepay, then WeixinJSBridge's payment sheet;
    back on the pay page, the notification settles the payment."""
    _table, tab = _diner_tab(token)
    provider = providers.gateway("wechatpay")
    back = settings.PUBLIC_URL + reverse("payments:pay", args=[token])
    payment = (
        Payment.objects.filter(
            reference=reference, provider="wechatpay", tab=tab, status=Payment.Status.PENDING
        ).first()
        if tab is not None and provider is not None and provider.config.get("app_secret")
        else None
    )
    if payment is None or payment.overdue():
        return redirect(back)
    openid = request.session.get("wechat_openid")
    try:
        if not openid:
            code, state = request.GET.get("code", ""), request.GET.get("state", "")
            if not code or not state or state != request.session.get("wechat_oauth_state"):
                state = secrets.token_urlsafe(16)
                request.session["wechat_oauth_state"] = state
                return redirect(provider.oauth_url(settings.PUBLIC_URL + request.path, state))
            openid = provider.openid_for(code)
            request.session["wechat_openid"] = openid
        params = provider.jsapi_params(payment, openid)
    except (GatewayUnknown, GatewayRefusedStart):
        logger.exception("payments: WeChat JSAPI for %s", payment.reference)
        response = render(request, "payments/wechat_jsapi.html", {"payment": payment,
                          "back": back, "error": True})  # fmt: skip
        response.status_code = 503
        return response
    context = {"payment": payment, "back": back, "params": params}
    return render(request, "payments/wechat_jsapi.html", context)


@require_GET
def alipay_wap(request, token, reference):
    """A phone paying by Alipay: sent on to Alipay's gateway with a wap.pay request signed
    now (the signed request is too long to keep, and its timestamp must be fresh). Only the
    table's own pending payment; the reference is unguessable."""
    _table, tab = _diner_tab(token)
    provider = providers.gateway("alipay")
    payment = (
        Payment.objects.filter(
            reference=reference, provider="alipay", tab=tab, status=Payment.Status.PENDING
        ).first()
        if tab is not None and provider is not None
        else None
    )
    if payment is None or payment.overdue():
        return redirect("payments:pay", token=token)
    back = settings.PUBLIC_URL + reverse("payments:pay", args=[token])
    return redirect(provider.wap_url(payment, return_url=back))


@require_GET
def receipt(request, reference):
    """The e-receipt of the bill a payment belongs to (the reference is unguessable)."""
    payment = Payment.objects.filter(reference=reference).first()
    if payment is None:
        raise Http404("No such receipt")
    return render(request, "payments/receipt.html", _receipt_context(payment.tab_id, "phone"))


def _receipt_context(tab_id, paper):
    context = selectors.bill_view(tab_id)
    context["paper"] = paper
    context["payments"] = [p for p in context["payments"] if p.status == Payment.Status.SUCCEEDED]
    return context


# The cashier's dashboard ----------------------------------------------------------------------


def _tab_or_404(tab_id):
    if not order_selectors.tab_exists(tab_id):
        raise Http404("No such tab")
    return tab_id


def _bill_context(tab_id, **extra):
    return {**selectors.bill_view(tab_id), "key": new_key(), **extra}


@require_GET
@role_required(CASHIER)
def cashier(request):
    context = {"tiles": selectors.floor(), "key": new_key()}
    tab_id = parse.whole_number(request.GET.get("tab", ""))
    if tab_id is not None and order_selectors.tab_exists(tab_id):
        context.update(_bill_context(tab_id))
    return render(request, "payments/cashier.html", context)


def _bill_pane(request, tab_id, **extra):
    if not request.htmx:
        return redirect(reverse("payments:cashier") + f"?tab={tab_id}")
    return render(request, "payments/cashier.html#bill-pane", _bill_context(tab_id, **extra))


@require_GET
@role_required(CASHIER)
def cashier_find(request):
    """By typing or scanning a table's code (a scanner types it and Enter)."""
    table = order_selectors.find_table(request.GET.get("q"))
    tab = order_selectors.current_tab(table) if table else None
    if tab is None:
        message = (
            _("Table %(code)s is free.") % {"code": table.code}
            if table
            else _("No table with this code.")
        )
        return refusal(request, message, 404)
    return _bill_pane(request, tab.pk)


@require_GET
@role_required(CASHIER)
def cashier_bill(request, tab):
    return _bill_pane(request, _tab_or_404(tab))


# What a manager approves, by the view that asked (templates/approval.html shows it).
APPROVED_ACTIONS = {
    "cashier_tab_discount": gettext_lazy("Bill discount"),
    "cashier_line_discount": gettext_lazy("Line discount"),
    "cashier_line_void": gettext_lazy("Void (退菜)"),
    "cashier_refund": gettext_lazy("Refund"),
}


def _tab_of(kwargs):
    if "tab" in kwargs:
        return kwargs["tab"]
    if "line" in kwargs:
        return order_selectors.line_tab_id(kwargs["line"])
    return Payment.objects.filter(pk=kwargs.get("payment")).values_list("tab", flat=True).first()


def _approval(request, view_name, error, kwargs):
    """The approval fields, over the bill: the same action again, with a manager's login."""
    cancel = reverse("payments:cashier") + f"?tab={_tab_of(kwargs)}"
    what = str(APPROVED_ACTIONS.get(view_name, ""))  # in the request's language
    return approval_form(request, error, what=what, cancel=cancel)


def _cashier_post(view):
    """Runs a cashier action; the answer refreshes the bill, its tile and the message. An action
    that needs a manager answers with the approval fields instead."""

    @require_POST
    @role_required(CASHIER)
    def wrapper(request, *args, **kwargs):
        try:
            tab_id, message, extra = view(request, *args, **kwargs)
        except Refused as error:
            if error.code in NEEDS_MANAGER and view.__name__ in APPROVED_ACTIONS:
                return _approval(request, view.__name__, error, kwargs)
            return refusal(request, error.message, error.status)
        if not request.htmx:
            return redirect(reverse("payments:cashier") + f"?tab={tab_id}")
        context = _bill_context(tab_id, message=message, oob=True, **extra)
        context["tile"] = selectors.tile_for_table(context["tab"].table_id)
        return render(request, "payments/cashier_update.html", context)

    wrapper.__name__ = view.__name__
    return wrapper


@_cashier_post
def cashier_pay(request, tab):
    tab = _tab_or_404(tab)
    form = PaymentForm.parse(request.POST)
    amount = form["amount"]
    if amount is None:  # blank: all that is due
        _settlement, due = services.amount_due(tab)
        amount = max(due, Decimal(0))
    payment, _created = services.payment_start(
        tab_id=tab,
        method=form["method"],
        amount=amount,
        version=form["version"],
        key=form["key"],
        user=request.user,
        terminal_ref=form["terminal_ref"],
        auth_code=form["auth_code"],
        member=member_auth(request.POST) if form["method"] == Method.MEMBER else None,
    )
    if payment.method == Method.CASH and payment.change:
        message = _("Cash %(tendered)s received. Change: %(change)s") % {
            "tendered": yuan(payment.tendered),
            "change": yuan(payment.change),
        }
    elif payment.status == Payment.Status.PENDING and payment.by_code and payment.failure:
        # services.REVERSING: the gateway answered neither the payment nor its reverse
        message = _(
            "The payment service did not answer. The payment is being checked and is reversed "
            "if anything was taken: scan again in a minute."
        )
    elif payment.status == Payment.Status.PENDING and payment.by_code:
        message = _("The guest is confirming the payment on the phone (用户支付中)…")
    elif payment.status == Payment.Status.FAILED:
        message = _("Not paid: %(reason)s") % {"reason": payment.failure}
    elif payment.status == Payment.Status.CANCELLED and payment.by_code:
        message = _("The payment service did not answer: nothing was taken. Scan the code again.")
    elif payment.status == Payment.Status.PENDING:
        message = _("Show the QR code to the guest.")
    else:
        message = _("Paid %(amount)s.") % {"amount": yuan(payment.amount)}
    return tab, message, {"last_payment": payment}


@_cashier_post
def cashier_tab_discount(request, tab):
    tab = _tab_or_404(tab)
    form = DiscountForm.parse(request.POST)
    services.tab_discount(
        tab_id=tab,
        amount=form["amount"],
        reason=form["reason"],
        user=request.user,
        approval=Approval.from_post(request),
    )
    return tab, _("Discount saved."), {}


@_cashier_post
def cashier_coupon(request, tab):
    """A coupon scanned or typed at the till."""
    tab = _tab_or_404(tab)
    code = CouponForm.parse(request.POST)["code"]
    used = coupon_services.coupon_redeem(code=code, tab_id=tab, user=request.user)
    return tab, _("Coupon %(name)s used.") % {"name": used.coupon.name}, {}


@_cashier_post
def cashier_coupon_remove(request, tab):
    tab = _tab_or_404(tab)
    code = CouponForm.parse(request.POST)["code"]
    coupon_services.coupon_remove(code=code, tab_id=tab, user=request.user)
    return tab, _("Coupon taken off; it can be used again."), {}


@_cashier_post
def cashier_member(request, tab):
    """A member shows their code, or types their PIN, and goes on the bill (member prices)."""
    tab = _tab_or_404(tab)
    member = member_services.tab_member_identify(
        tab_id=tab, auth=member_auth(request.POST), user=request.user
    )
    return tab, _("Member %(number)s is on the bill.") % {"number": member.number}, {}


@_cashier_post
def cashier_member_leave(request, tab):
    tab = _tab_or_404(tab)
    member_services.tab_member_leave(tab_id=tab, user=request.user)
    return tab, _("The member is off the bill."), {}


@_cashier_post
def cashier_points(request, tab):
    """积分抵现: the bill's member spends points as money off."""
    tab = _tab_or_404(tab)
    points = PointsForm.parse(request.POST)["points"]
    move = member_services.points_redeem(tab_id=tab, points=points, user=request.user)
    return (
        tab,
        _("%(points)s points: %(off)s off.") % {"points": -move.points, "off": move.reason},
        {},
    )


@_cashier_post
def cashier_line_discount(request, line):
    form = DiscountForm.parse(request.POST)
    tab = services.line_discount(
        line_id=line,
        amount=form["amount"],
        reason=form["reason"],
        user=request.user,
        approval=Approval.from_post(request),
    )
    return tab.pk, _("Discount saved."), {}


@_cashier_post
def cashier_line_void(request, line):
    voided = order_services.line_void(
        line_id=line,
        reason=ReasonForm.parse(request.POST)["reason"],
        user=request.user,
        approval=Approval.from_post(request),
    )
    return voided.order.tab_id, _("The dish is taken off the bill."), {}


@_cashier_post
def cashier_refund(request, payment):
    form = RefundForm.parse(request.POST)
    refund = services.refund_create(
        payment_id=payment,
        amount=form["amount"],
        reason=form["reason"],
        user=request.user,
        key=form["key"],
        approval=Approval.from_post(request),
    )
    return refund.payment.tab_id, _("Refunded %(amount)s.") % {"amount": yuan(refund.amount)}, {}


@_cashier_post
def cashier_payment_cancel(request, payment):
    cancelled = services.payment_cancel(payment_id=payment, user=request.user)
    return cancelled.tab_id, _("The payment is cancelled."), {}


@_cashier_post
def cashier_close(request, tab):
    tab = _tab_or_404(tab)
    services.tab_close(
        tab_id=tab, user=request.user, rotate_token=request.POST.get("rotate") == "on"
    )
    return tab, _("The table is free again."), {}


@_cashier_post
def cashier_reopen(request, tab):
    tab = _tab_or_404(tab)
    services.tab_reopen(tab_id=tab, user=request.user)
    return tab, _("The bill is open again."), {}


@require_GET
@role_required(CASHIER)
def cashier_receipt(request, tab):
    paper = request.GET.get("paper", "80")
    if paper not in ("58", "80"):
        paper = "80"
    return render(request, "payments/receipt.html", _receipt_context(_tab_or_404(tab), paper))


# The sandbox gateway's page (the code_url a phone opens) --------------------------------------


def _charge(charge_id):
    if not conf.sandbox_enabled():
        raise Http404("The sandbox gateway is off")
    charge = SandboxCharge.objects.filter(pk=charge_id).first()
    if charge is None:
        raise Http404("No such charge")
    return charge


@require_GET
def sandbox_page(request, charge):
    return render(request, "payments/sandbox.html", {"charge": _charge(charge)})


@csrf_exempt  # the gateway's own page: the charge id in the URL is the credential
@require_POST
def sandbox_decide(request, charge):
    charge = _charge(charge)
    action = request.POST.get("action")
    if action not in ("approve", "approve_twice", "decline"):
        return HttpResponse(_("Unknown action."), status=400)
    try:
        charge = sandbox.gateway_decide(charge.pk, approve=action != "decline")
    except sandbox.SandboxError as error:
        response = render(request, "payments/sandbox.html", {"charge": charge, "error": str(error)})
        response.status_code = 409
        return response
    sandbox.deliver(charge, times=2 if action == "approve_twice" else 1)
    return render(request, "payments/sandbox.html", {"charge": charge, "done": True})


# The sandbox gateway's API (our client's `SANDBOX_TRANSPORT=http` path) and its fault switch --


def _signed_json(request):
    """The body of a signed call to the sandbox gateway, or a refusal to answer with."""
    if not conf.sandbox_enabled():
        raise Http404("The sandbox gateway is off")
    try:
        sandbox.check_signed(request.headers, request.body)
        data = json.loads(request.body)
    except NotifyRefused as refused:
        return None, JsonResponse(
            {"code": refused.code, "message": refused.message}, status=refused.status
        )
    except ValueError:
        return None, JsonResponse({"code": "invalid", "message": "Not JSON."}, status=400)
    if not isinstance(data, dict):
        return None, JsonResponse({"code": "invalid", "message": "Not an object."}, status=400)
    return data, None


@csrf_exempt  # another system's API: the signature is the credential
@require_POST
def sandbox_api(request, op):
    data, refused = _signed_json(request)
    if refused:
        return refused
    if op not in sandbox.OPERATIONS:
        raise Http404("No such operation")
    fault = sandbox.take_fault(op)
    if fault == "error":
        return JsonResponse({"code": "SYSTEM_ERROR", "message": "A planned fault."}, status=500)
    try:
        answer = sandbox.gateway_call(op, data)
    except sandbox.SandboxError as error:
        return JsonResponse({"code": "refused", "message": str(error)}, status=409)
    except (KeyError, TypeError, ValueError):
        return JsonResponse({"code": "invalid", "message": "Missing or wrong fields."}, status=400)
    if fault == "timeout":  # the work is done; the answer comes after the client gave up
        time.sleep(conf.sandbox_timeout() + 1)
    return JsonResponse(answer)


@csrf_exempt
@require_POST
def sandbox_faults(request):
    """Plan faults of the sandbox gateway: `{"op": "query", "fault": "timeout", "times": 2}`."""
    data, refused = _signed_json(request)
    if refused:
        return refused
    times = parse.whole_number(data.get("times", 1))
    try:
        sandbox.set_fault(
            str(data.get("op")), str(data.get("fault")), 1 if times is None else times
        )
    except sandbox.SandboxError as error:
        return JsonResponse({"code": "invalid", "message": str(error)}, status=400)
    return JsonResponse({"faults": cache.get(sandbox.FAULTS_KEY) or {}})
