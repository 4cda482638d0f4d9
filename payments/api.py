"""Settlements, payments and refunds over JSON (API v1), and the sandbox gateway's notify URL.

Errors answer `{"error": "<stable code>", "message": "…"}` (restaurant/api.py); a payment against
an old settlement version answers `409 stale_version` with the current `settlement`.
"""

from datetime import datetime
from typing import Annotated

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import AfterValidator, PlainValidator, WithJsonSchema

from orders import selectors as order_selectors
from orders.settlement import build_settlement
from restaurant.lib.api_auth import StaffAuth
from restaurant.lib.approvals import Approval, ApprovalIn
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money_str
from restaurant.lib.roles import CASHIER
from restaurant.lib.schemas import Key, Stripped, Version, Yuan, refusal, refusing

from . import conf, services
from .coupons import services as coupon_services
from .forms import auth_code, coupon_code
from .members.services import MemberAuth
from .models import Method, Payment
from .providers.base import NotifyRefused
from .views import start_context

router = Router(tags=["payments"])
staff = StaffAuth(CASHIER)


# The settlement/v1 document -------------------------------------------------------------------


class SettlementTable(Schema):
    code: str
    name: str


class SettlementLine(Schema):
    line: str
    dish: str | None
    name: str
    options: list[str]
    quantity: int
    unit_price: str
    member_price: str | None = Field(None, description="会员价 at order time, if the dish had one")
    member_discount: str = Field("0.00", description="What the member on the bill saves here")
    discount: str
    discount_reason: str = ""
    amount: str = Field(description="unit_price × quantity − discount (member prices apart)")
    status: str


class SettlementMember(Schema):
    ref: str = Field(description="The member's reference on the payment side")
    label: str
    discount_rate: str | None = Field(description="The share a member pays: 0.900 = 九折")


class SettlementAdjustment(Schema):
    """One price rule as applied, in the order of application (payments/README.md, "Prices and
    discounts"): kind member_price, coupon, points, discount, seat_charge, minimum_spend,
    service_charge or rounding. `amount` is signed: money off is negative."""

    kind: str
    reason: str = Field(description="The coupon's name, the member's label, a discount's reason")
    ref: str = Field(description="The coupon's or the member's reference")
    amount: str
    applied: bool = Field(description="False: it takes nothing off now; `why` says why")
    why: str = Field(description="minimum | no_dishes | not_combinable | nothing_left | ''")
    rule: dict | None = Field(None, description="A coupon's rule (orders/settlement.py)")
    guests: int | None = None
    each: str | None = Field(None, description="seat_charge: per guest")
    minimum: str | None = Field(None, description="minimum_spend: the room's minimum")
    percent: str | None = Field(None, description="service_charge: its percentage")


class SettlementPayment(Schema):
    payment: str
    method: str
    amount: str
    refunded: str
    status: str


class Settlement(Schema):
    """The standardized settlement (DESIGN.md, settlement/v1); amounts are strings in yuan."""

    schema_: str = Field(alias="schema", examples=["settlement/v1"])
    tab: str
    version: int
    table: SettlementTable
    currency: str
    status: str
    opened_at: str
    guests: int | None
    member: SettlementMember | None = None
    lines: list[SettlementLine]
    adjustments: list[SettlementAdjustment] = []
    subtotal: str
    discount_total: str = Field(description="Every discount: members, lines, coupons, points, bill")
    charges_total: str = Field("0.00", description="Seat charges and minimum-spend shortfall")
    service_charge: str
    rounding: str
    total: str
    paid: str
    refunded: str
    balance_due: str
    payments: list[SettlementPayment]


class Error(Schema):
    error: str
    message: str


class StaleError(Error):
    settlement: dict | None = None


# Payments -------------------------------------------------------------------------------------


def _method(value: object) -> Method | None:
    return Method(value) if isinstance(value, str) and value in Method.values else None


def _auth_code(value: object) -> str | None:
    return "" if value == "" else auth_code(value)


# `cash`, `card` or `qr`: `400 bad_method` otherwise.
PayMethod = Annotated[
    Method,
    PlainValidator(refusing(_method, Code.BAD_METHOD)),
    WithJsonSchema({"type": "string", "enum": Method.values}),
]
# 付款码: 16 to 24 digits, or empty: `400 bad_auth_code` otherwise.
AuthCode = Annotated[str, AfterValidator(refusing(_auth_code, Code.BAD_AUTH_CODE))]


class MemberIn(Schema):
    """Who pays by balance (`method` `member`): the member code scanned at the till, or the
    mobile / member number and the PIN the member typed. No code and no PIN: refused."""

    code: Stripped = Field("", max_length=24, description="The member code (20 digits, 97…)")
    login: Stripped = Field("", max_length=20, description="Mobile or member number")
    pin: Stripped = Field("", max_length=6, description="The member's 6-digit PIN")


class PaymentIn(Schema):
    method: PayMethod
    amount: Yuan
    version: Version
    key: Key
    reference: str = ""
    auth_code: AuthCode = ""
    member: MemberIn | None = None


class DinerPaymentIn(Schema):
    method: PayMethod = Method.QR
    gateway: str = ""
    amount: Yuan
    version: Version
    key: Key


class RefundOut(Schema):
    id: int
    amount: str
    status: str
    reason: str
    automatic: bool
    created_at: datetime


class PaymentOut(Schema):
    id: int
    tab: int
    method: str
    gateway: str
    status: str
    amount: str
    tendered: str | None
    change: str
    refunded: str
    version: int
    code_url: str
    expires_at: datetime | None
    created_at: datetime
    completed_at: datetime | None
    failure: str
    receipt_url: str
    refunds: list[RefundOut]


class PaymentAnswer(Schema):
    payment: PaymentOut
    settlement: Settlement


class RefundIn(Schema):
    amount: Yuan
    reason: str
    key: Key | None = None
    approval: ApprovalIn | None = None


class DiscountIn(Schema):
    amount: Yuan
    reason: str = ""
    approval: ApprovalIn | None = None


class RefundAnswer(Schema):
    refund: RefundOut
    settlement: Settlement


class NotifyAnswer(Schema):
    code: str
    message: str = ""


def _local(value):
    return timezone.localtime(value) if value else None


def _refund_out(refund):
    return {
        "id": refund.pk,
        "amount": money_str(refund.amount),
        "status": refund.status,
        "reason": refund.reason,
        "automatic": refund.automatic,
        "created_at": _local(refund.created_at),
    }


def _payment_out(payment):
    return {
        "id": payment.pk,
        "tab": payment.tab_id,
        "method": payment.method,
        "gateway": payment.provider,
        "status": payment.status,
        "amount": money_str(payment.amount),
        "tendered": money_str(payment.tendered) if payment.tendered is not None else None,
        "change": money_str(payment.change),
        "refunded": money_str(payment.refunded),
        "version": payment.version,
        "code_url": payment.code_url,
        "expires_at": _local(payment.expires_at),
        "created_at": _local(payment.created_at),
        "completed_at": _local(payment.completed_at),
        "failure": payment.failure,
        "receipt_url": reverse("payments:receipt", args=[payment.reference]),
        "refunds": [_refund_out(r) for r in payment.refunds.all()],
    }


def _answer(payment, created):
    settlement = payment.settlement  # the payment and its bill as its transaction left them
    if settlement is None:
        payment.refresh_from_db()
        settlement = build_settlement(payment.tab_id)
    payment.as_read()
    body = {"payment": _payment_out(payment), "settlement": settlement}
    return Status(201 if created else 200, body)


def _diner_tab(token):
    table = order_selectors.table_by_token(token)
    tab = order_selectors.current_tab(table)
    if tab is None:
        raise Http404("Nobody is seated at this table.")
    return tab


def _staff_user(request):
    """The staff member acting, for the records; None when a device token calls."""
    return request.user if request.device is None else None


def _staff_tab(tab_id):
    if not order_selectors.tab_exists(tab_id):
        raise Http404("No such tab.")
    return tab_id


# Endpoints ------------------------------------------------------------------------------------


@router.get(
    "/tables/{token}/settlement",
    response={200: Settlement, 404: Error},
    by_alias=True,
    summary="The settlement of the table's current tab (diners)",
)
def table_settlement(request, token: str):
    """The `settlement/v1` document of the table's current tab. `404` when nobody is seated."""
    return build_settlement(_diner_tab(token).pk)


@router.get(
    "/tabs/{tab}/settlement",
    auth=staff,
    response={200: Settlement, 401: Error, 404: Error},
    by_alias=True,
    summary="The settlement of a tab (staff)",
)
def tab_settlement(request, tab: int):
    """The `settlement/v1` document of any tab, also a closed one. Needs a cashier device token."""
    return build_settlement(_staff_tab(tab))


@router.post(
    "/tabs/{tab}/payments",
    auth=staff,
    response={
        201: PaymentAnswer,
        200: PaymentAnswer,
        400: Error,
        401: Error,
        403: Error,
        404: Error,
        409: StaleError,
        429: Error,
    },
    summary="Take a cash, card, 付款码 or member-balance payment (staff; idempotent by key)",
    by_alias=True,
)
def tab_payment(request, tab: int, payload: PaymentIn):
    """`method` is `cash` (then `amount` is what was tendered: above the balance, the change is
    recorded and answered) or `card` (`reference`: the card terminal's reference). `version` is
    the settlement version the amount was computed from: an older one answers `409
    stale_version` with the current settlement. The same `key` again answers `200` with the
    first payment and takes nothing. `qr` with `auth_code` (付款码, the code on the payer's
    phone, scanned at the till): its prefix picks WeChat Pay or Alipay and the payment is taken
    at once; `status` `pending` means the payer is confirming on the phone (the payment
    completes or is reversed within a minute, pushed to the cashier's screens). `member` with
    `member` (`code`, or `login` and `pin`): taken from the member's balance at once; a wrong
    PIN answers `403 wrong_pin` (five lock it: `429 pin_locked`), a short balance `409
    not_enough_balance`, a frozen card `409 member_frozen`, a used code `409
    member_code_used`."""
    if payload.method not in (Method.CASH, Method.CARD, Method.MEMBER) and not (
        payload.method == Method.QR and payload.auth_code
    ):
        raise Refused(Code.BAD_METHOD)
    member = None
    if payload.method == Method.MEMBER and payload.member is not None:
        member = MemberAuth(
            code=payload.member.code,
            login=payload.member.login,
            pin=payload.member.pin,
        )
    payment, created = services.payment_start(
        tab_id=_staff_tab(tab),
        method=payload.method,
        amount=payload.amount,
        version=payload.version,
        key=payload.key,
        user=_staff_user(request),
        terminal_ref=payload.reference,
        auth_code=payload.auth_code,
        member=member,
    )
    return _answer(payment, created)


DISCOUNT_RULES = """All of a bill's discounts together (its lines' and its own) may come to
    `CASHIER_DISCOUNT_LIMIT_PERCENT` of its subtotal; a change that leaves them further above
    answers `403 discount_over_limit` unless `approval` names a manager (their login and
    password; never the caller's own). A reason is needed for an amount above 0."""


@router.post(
    "/tabs/{tab}/discount",
    auth=staff,
    response={200: Settlement, 400: Error, 401: Error, 403: Error, 404: Error, 409: Error},
    summary="A discount on the whole bill in yuan; 0 takes it off (staff)",
    description=DISCOUNT_RULES,
    by_alias=True,
)
def tab_discount(request, tab: int, payload: DiscountIn):
    services.tab_discount(
        tab_id=_staff_tab(tab),
        amount=payload.amount,
        reason=payload.reason,
        user=_staff_user(request),
        approval=Approval.from_api(request, payload.approval),
    )
    return build_settlement(tab)


def _coupon_code(value: str) -> str:
    code = coupon_code(value)
    if code is None:
        raise refusal(Code.UNKNOWN_COUPON)
    return code


# A coupon's code as scanned or typed (spaces, dashes forgiven): `404 unknown_coupon` when it
# cannot be one.
CouponCode = Annotated[str, AfterValidator(_coupon_code)]


class CouponIn(Schema):
    code: CouponCode = Field(
        description="The coupon's code as scanned or typed (spaces, dashes forgiven)"
    )


COUPON_RULES = (
    "A coupon is used once: a code on another bill is `409 coupon_used`; outside its dates, "
    "weekdays or hours `409 coupon_not_valid`; one that does not apply to the bill as it is "
    "(its minimum, its dishes) `409 not_applicable`, or does not combine with one already on "
    "it `409 not_combinable`; an unknown code `404 unknown_coupon`. Each changes nothing. The "
    "same code again on the same bill is the one already there. On the bill it is a row of "
    "`adjustments` (kind `coupon`), evaluated again on every change of the bill "
    '(payments/README.md, "Prices and discounts").'
)


@router.post(
    "/tabs/{tab}/coupons",
    auth=staff,
    response={200: Settlement, 400: Error, 401: Error, 404: Error, 409: Error},
    summary="Use a coupon on a bill (staff)",
    description=COUPON_RULES,
    by_alias=True,
)
def tab_coupon(request, tab: int, payload: CouponIn):
    coupon_services.coupon_redeem(
        code=payload.code, tab_id=_staff_tab(tab), user=_staff_user(request)
    )
    return build_settlement(tab)


@router.delete(
    "/tabs/{tab}/coupons/{code}",
    auth=staff,
    response={200: Settlement, 401: Error, 404: Error, 409: Error},
    summary="Take a coupon off a bill; it can be used again (staff)",
    by_alias=True,
)
def tab_coupon_remove(request, tab: int, code: str):
    stored = coupon_code(code)
    if stored is None:
        raise Refused(Code.UNKNOWN_COUPON)
    coupon_services.coupon_remove(code=stored, tab_id=_staff_tab(tab), user=_staff_user(request))
    return build_settlement(tab)


@router.post(
    "/tables/{token}/coupons",
    response={200: Settlement, 400: Error, 404: Error, 409: Error},
    summary="Use a coupon on the table's current bill (diners)",
    description=COUPON_RULES,
    by_alias=True,
)
def table_coupon(request, token: str, payload: CouponIn):
    tab = _diner_tab(token)
    coupon_services.coupon_redeem(code=payload.code, tab_id=tab.pk)
    return build_settlement(tab.pk)


@router.post(
    "/lines/{line}/discount",
    auth=staff,
    response={200: Settlement, 400: Error, 401: Error, 403: Error, 404: Error, 409: Error},
    summary="A discount on one dish line in yuan; 0 takes it off (staff)",
    description=DISCOUNT_RULES,
    by_alias=True,
)
def line_discount(request, line: int, payload: DiscountIn):
    tab = services.line_discount(
        line_id=line,
        amount=payload.amount,
        reason=payload.reason,
        user=_staff_user(request),
        approval=Approval.from_api(request, payload.approval),
    )
    return build_settlement(tab.pk)


@router.post(
    "/tables/{token}/payments",
    response={201: PaymentAnswer, 200: PaymentAnswer, 400: Error, 404: Error, 409: StaleError},
    summary="Start a QR payment from a phone (diners; idempotent by key)",
    by_alias=True,
)
def table_payment(request, token: str, payload: DinerPaymentIn):
    """Starts a QR payment of `amount` (at most the balance due) at `gateway` (`wechatpay`,
    `sandbox`: those offered here; empty: the first offered). The answer's `code_url` is a QR
    code to show (desktop) or a page to open (WeChat Pay H5, chosen by a phone's user agent).
    The payment completes when the gateway notifies us; its status is pushed to the phones and
    readable at `GET /tables/{token}/payments/{id}`."""
    if payload.method != Method.QR:
        raise Refused(Code.BAD_METHOD)
    tab = _diner_tab(token)
    services.payments_expire_due(tab_id=tab.pk)
    payment, created = services.payment_start(
        tab_id=tab.pk,
        method=Method.QR,
        amount=payload.amount,
        version=payload.version,
        key=payload.key,
        gateway=payload.gateway,
        context=start_context(request, token),
    )
    return _answer(payment, created)


@router.get(
    "/tables/{token}/payments/{payment}",
    response={200: PaymentAnswer, 404: Error},
    summary="A payment of the table's current tab (diners)",
    by_alias=True,
)
def table_payment_detail(request, token: str, payment: int):
    tab = _diner_tab(token)
    found = Payment.objects.filter(pk=payment, tab=tab).first()
    if found is None:
        raise Http404("No such payment at this table.")
    return _answer(found, False)


@router.post(
    "/payments/{payment}/refunds",
    auth=staff,
    response={201: RefundAnswer, 400: Error, 401: Error, 403: Error, 404: Error, 409: Error},
    summary="Refund part or all of a payment (staff)",
    by_alias=True,
)
def payment_refund(request, payment: int, payload: RefundIn):
    """Gives `amount` back through the payment's own method, with a `reason`; at most what is
    left of the payment. The same `key` again returns the first refund. Refunds by hand on one
    bill above `CASHIER_REFUND_LIMIT` answer `403 refund_needs_manager` unless `approval` names
    a manager (their login and password; never the caller's own)."""
    refund = services.refund_create(
        payment_id=payment,
        amount=payload.amount,
        reason=payload.reason,
        key=payload.key,
        user=_staff_user(request),
        approval=Approval.from_api(request, payload.approval),
    )
    refund.refresh_from_db()
    return Status(
        201,
        {
            "refund": _refund_out(refund),
            "settlement": build_settlement(refund.payment.tab_id),
        },
    )


@router.post(
    "/payments/notify/sandbox",
    response={
        200: NotifyAnswer,
        400: NotifyAnswer,
        401: NotifyAnswer,
        404: NotifyAnswer,
        409: NotifyAnswer,
    },
    summary="The sandbox gateway's signed payment notification",
)
def sandbox_notify(request):
    """Called by the sandbox gateway, never by people. The raw body is signed: headers
    `Sandbox-Timestamp`, `Sandbox-Nonce`, `Sandbox-Signature` = base64(HMAC-SHA256(secret,
    "timestamp\\nnonce\\nbody\\n")); older than 5 minutes is refused. A replay answers `200`
    and changes nothing; a forged, unsigned or wrong-amount one answers 4xx and is logged."""
    if not conf.sandbox_enabled():
        return Status(404, {"code": "FAIL", "message": "The sandbox gateway is off."})
    try:
        services.payment_notify(provider_name="sandbox", headers=request.headers, body=request.body)
    except NotifyRefused as refused:
        return Status(refused.status, {"code": "FAIL", "message": refused.message})
    return {"code": "SUCCESS", "message": ""}


@router.post(
    "/payments/notify/wechatpay",
    response={204: None, 400: NotifyAnswer, 401: NotifyAnswer, 404: NotifyAnswer,
              409: NotifyAnswer},
    summary="WeChat Pay API v3 payment and refund notifications",
)  # fmt: skip
def wechatpay_notify(request):
    """Called by WeChat Pay, never by people. Verified as API v3 requires: the
    `Wechatpay-Serial` must be our public key id, the `Wechatpay-Timestamp` within 5 minutes,
    `Wechatpay-Signature` RSA-SHA256 over "timestamp\\nnonce\\nbody\\n" with the WeChat Pay
    public key, the resource decrypted (AEAD_AES_256_GCM, the APIv3 key) and its mchid and
    appid ours. `204` when applied or a replay; otherwise 4xx `{"code": "FAIL", "message": …}`
    (logged), so that the gateway tries again."""
    if not conf.wechatpay_enabled():
        return Status(404, {"code": "FAIL", "message": "WeChat Pay is not configured here."})
    try:
        services.payment_notify(
            provider_name="wechatpay", headers=request.headers, body=request.body
        )
    except NotifyRefused as refused:
        return Status(refused.status, {"code": "FAIL", "message": refused.message})
    return Status(204, None)


@router.post(
    "/payments/notify/alipay",
    response={200: str, 400: str, 401: str, 404: str, 409: str},
    summary="Alipay asynchronous notifications (form POST)",
)
def alipay_notify(request):
    """Called by Alipay, never by people: a form POST, RSA2-verified with the Alipay public key
    over the sorted fields without `sign` and `sign_type`; `app_id` and `seller_id` must be ours,
    `notify_time` within 5 minutes. Answered with the plain text `success` when applied, a
    replay, or nothing to do (WAIT_BUYER_PAY); otherwise 4xx `fail` (logged), so that Alipay
    tries again."""
    if not conf.alipay_enabled():
        return HttpResponse("fail", status=404, content_type="text/plain")
    try:
        services.payment_notify(provider_name="alipay", headers=request.headers, body=request.body)
    except NotifyRefused as refused:
        return HttpResponse("fail", status=refused.status, content_type="text/plain")
    return HttpResponse("success", content_type="text/plain")
