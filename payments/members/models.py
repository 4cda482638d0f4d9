"""Members (会员), their levels, stored value (储值) and points (积分), and the statement of every
move. `payments.members.services` is the only writer; payments/README.md, "Members", says why.
"""

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from restaurant.lib.errors import Code, Refused
from restaurant.lib.fields import optional_link, staff_member
from restaurant.lib.money import MoneyField


def new_link_token() -> str:
    """The member's private link (`/m/<token>/`): unguessable; the PIN still guards it."""
    return secrets.token_urlsafe(24)


class Level(models.Model):
    """普通 / 银卡 / 金卡: the manager sets each level's discount and points rate."""

    name = models.CharField(_("name"), max_length=30)
    name_en = models.CharField(_("name (English)"), max_length=30, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    discount_rate = models.DecimalField(
        _("discount rate"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("1.000"),
        help_text=_("What a member of this level pays of the price: 0.950 is 95折, 1 is none."),
    )
    points_rate = models.DecimalField(
        _("points per yuan"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        help_text=_("Points earned per yuan actually paid."),
    )
    is_default = models.BooleanField(
        _("default level"), default=False, help_text=_("New members start at this level.")
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discount_rate__gt=0, discount_rate__lte=1),
                name="level_discount_rate_range",
            ),
            models.CheckConstraint(
                condition=models.Q(points_rate__gte=0), name="level_points_rate_not_negative"
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A member: a number, optionally a mobile, a name and a birthday; a wallet and points.

    The wallet keeps principal (本金, what was paid in) and bonus (赠送金) apart; the balance is
    their sum. Both and the points are never negative (constraints, and the services lock the
    row before they spend).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        FROZEN = "frozen", _("frozen")
        ERASED = "erased", _("personal data deleted")

    # A lost card is frozen and found again; erasing personal data is for good.
    TRANSITIONS = {
        Status.ACTIVE: {Status.FROZEN, Status.ERASED},
        Status.FROZEN: {Status.ACTIVE, Status.ERASED},
        Status.ERASED: set(),
    }

    number = models.CharField(_("member number"), max_length=20, unique=True)
    mobile = models.CharField(  # noqa: DJ001 NULL, not "": many members have no mobile
        _("mobile"), max_length=20, null=True, blank=True, unique=True
    )
    name = models.CharField(_("name"), max_length=40, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    level = models.ForeignKey(
        Level, on_delete=models.PROTECT, related_name="members", verbose_name=_("level")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    principal = MoneyField(_("principal"), default=0, help_text=_("Stored value paid in."))
    bonus = MoneyField(_("bonus"), default=0, help_text=_("Stored value given with top-ups."))
    points = models.PositiveIntegerField(_("points"), default=0)
    pin = models.CharField(_("PIN"), max_length=128, blank=True, editable=False)
    pin_failures = models.PositiveSmallIntegerField(_("wrong PINs in a row"), default=0)
    pin_locked_until = models.DateTimeField(_("PIN locked until"), null=True, blank=True)
    link_token = models.CharField(
        _("private link"), max_length=40, unique=True, default=new_link_token, editable=False
    )
    created_at = models.DateTimeField(_("joined"), default=timezone.now)
    created_by = staff_member(_("made by"))
    erased_at = models.DateTimeField(_("personal data deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(principal__gte=0), name="member_principal_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(bonus__gte=0), name="member_bonus_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()

    @property
    def balance(self) -> Decimal:
        return self.principal + self.bonus

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.FROZEN

    @property
    def is_erased(self) -> bool:
        return self.status == self.Status.ERASED

    def transition(self, to: str, *, user: Any = None, reason: str = "", **fields: Any) -> None:
        """The one writer of a member's status: checks the move against TRANSITIONS, saves it
        with `fields`, and puts it on the statement (who, when, why). Call on the locked row."""
        if to not in self.TRANSITIONS[self.Status(self.status)]:
            raise Refused(
                Code.ILLEGAL_TRANSITION, thing=_("the member"), status=self.get_status_display()
            )
        self.status = self.Status(to)
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])
        kind = {
            self.Status.ACTIVE: Move.Kind.UNFROZEN,
            self.Status.FROZEN: Move.Kind.FROZEN,
            self.Status.ERASED: Move.Kind.ERASED,
        }[self.status]
        Move.objects.create(
            member=self, kind=kind, principal_after=self.principal, bonus_after=self.bonus,
            points_after=self.points, user=user, reason=reason[:200],
        )  # fmt: skip

    def pin_locked(self, now: Any = None) -> bool:
        return self.pin_locked_until is not None and self.pin_locked_until > (now or timezone.now())


class MemberCode(models.Model):
    """The code on the member's page, scanned at the till like a 付款码: valid 60 s, used once."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="codes", verbose_name=_("member")
    )
    code = models.CharField(_("code"), max_length=24, unique=True)
    created_at = models.DateTimeField(_("made"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member code")
        verbose_name_plural = _("member codes")


class BonusRule(models.Model):
    """充 200 送 30: a top-up of at least `threshold` gets `bonus`; the largest rule met applies."""

    threshold = MoneyField(_("top-up from"), unique=True)
    bonus = MoneyField(_("bonus"))
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["threshold"]
        verbose_name = _("top-up bonus rule")
        verbose_name_plural = _("top-up bonus rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gt=0, bonus__gte=0), name="bonus_rule_amounts"
            )
        ]

    def __str__(self) -> str:
        return f"{self.threshold} + {self.bonus}"


def new_top_up_reference() -> str:
    """A gateway top-up's merchant order number (`out_trade_no`): unguessable, 32 characters,
    `dt` where a bill's payment has `dc`, so a gateway's bill tells them apart at a glance."""
    return "dt" + secrets.token_hex(15)


class TopUp(models.Model):
    """Money paid in to a member's wallet (储值) at the till: principal and the bonus it earned.

    Cash and card are paid in at once (`succeeded` from the start). WeChat Pay and Alipay
    (`method` `qr`, `provider` the gateway) start `pending` and are credited when the gateway
    confirms (its notification or the query API): principal and `bonus` are in the wallet only
    while `succeeded`. The states and their moves are a bill payment's (`Payment.TRANSITIONS`).
    """

    class Method(models.TextChoices):
        CASH = "cash", _("cash")
        CARD = "card", _("card")
        QR = "qr", _("QR pay")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SUCCEEDED = "succeeded", _("paid")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")
        CANCELLED = "cancelled", _("cancelled")

    # As a bill payment's: money taken is a fact; an expired or cancelled top-up the gateway
    # says it took the money for after all is recorded (and given back at once, services).
    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED, Status.EXPIRED, Status.CANCELLED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
        Status.EXPIRED: {Status.SUCCEEDED},
        Status.CANCELLED: {Status.SUCCEEDED},
    }

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="top_ups", verbose_name=_("member")
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUCCEEDED
    )
    amount = MoneyField(_("amount paid in"))
    bonus = MoneyField(_("bonus"), default=0)
    refunded = MoneyField(_("refunded"), default=0)
    key = models.CharField(_("request key"), max_length=64)
    terminal_ref = models.CharField(_("terminal reference"), max_length=64, blank=True)
    # The gateway's side (method `qr` only; NULL for cash and card, so they never collide).
    reference = models.CharField(  # noqa: DJ001
        _("reference"), max_length=40, unique=True, null=True, blank=True
    )
    gateway_txn = models.CharField(  # noqa: DJ001
        _("gateway transaction"), max_length=64, null=True, blank=True, unique=True
    )
    code_url = models.CharField(_("QR code address"), max_length=300, blank=True)
    by_code = models.BooleanField(_("paid with a payment code"), default=False)
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # A worker asking or closing at the gateway claims the top-up until then (compare-and-set).
    closing_until = models.DateTimeField(_("closing claimed until"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    user = staff_member()
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("top-up")
        verbose_name_plural = _("top-ups")
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="top_up_key_once_per_member"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="top_up_positive"),
            models.CheckConstraint(
                condition=models.Q(refunded__lte=models.F("amount")),
                name="top_up_refund_within_principal",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="top_up_pending_expiry")]

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    @property
    def by_gateway(self) -> bool:
        return self.method == self.Method.QR

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded if self.is_paid else Decimal(0)

    @property
    def subject(self) -> str:
        """What the payer's WeChat or Alipay shows the charge as."""
        return f"{settings.RESTAURANT_NAME} 会员储值"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    def overdue(self, now: datetime | None = None) -> bool:
        return (
            self.status == self.Status.PENDING
            and self.expires_at is not None
            and self.expires_at < (now or timezone.now())
        )

    def status_now(self, now: datetime | None = None) -> str:
        """Expiry is computed on read, as a payment's: an overdue top-up reads as expired before
        the worker has closed it at the gateway (nothing is written)."""
        return self.Status.EXPIRED if self.overdue(now) else self.status

    def status_now_display(self) -> str:
        return str(self.Status(self.status_now()).label)

    def transition(self, to: str, *, user: Any = None, reason: str = "", **fields: Any) -> None:
        """The one writer of a top-up's status: checks the move, saves it with `fields`, records
        a TopUpEvent (who, when, from, to, why). Call on the row the caller has locked."""
        old = self.status
        if not self.can_move_to(to):
            raise Refused(
                Code.ILLEGAL_TRANSITION, thing=_("the top-up"), status=self.get_status_display()
            )
        self.status = self.Status(to)
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])
        TopUpEvent.objects.create(
            top_up=self, from_status=old, to_status=to, user=user, reason=reason[:200]
        )


class TopUpRefund(models.Model):
    """Principal of a WeChat Pay or Alipay top-up given back through its gateway (a cash or card
    top-up's refund is handed back at once and needs no row). The wallet gives up the principal
    and its share of the bonus when it is made (`pending`), so nobody spends it meanwhile; a
    refund the gateway refuses puts them back (`failed`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("refunding")
        SUCCEEDED = "succeeded", _("refunded")
        FAILED = "failed", _("refund failed")

    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
    }

    top_up = models.ForeignKey(
        TopUp, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("top-up")
    )
    amount = MoneyField(_("amount"))
    bonus = MoneyField(_("bonus"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("reason"), max_length=200)
    automatic = models.BooleanField(_("automatic"), default=False)
    gateway_refund = models.CharField(  # noqa: DJ001
        _("gateway refund number"), max_length=64, null=True, blank=True, unique=True
    )
    user = staff_member()
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("top-up refund")
        verbose_name_plural = _("top-up refunds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="top_up_refund_amount_positive"
            )
        ]

    @property
    def payment(self) -> TopUp:
        """The charge this refund goes back through, under the name the providers read
        (`refund.payment.reference`, `.amount`): the top-up."""
        return self.top_up

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    def transition(self, to: str, *, user: Any = None, reason: str = "", **fields: Any) -> None:
        """The one writer of the refund's status, as `TopUp.transition`."""
        old = self.status
        if to not in self.TRANSITIONS[self.Status(self.status)]:
            raise Refused(
                Code.ILLEGAL_TRANSITION, thing=_("the refund"), status=self.get_status_display()
            )
        self.status = self.Status(to)
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])
        TopUpEvent.objects.create(
            top_up_id=self.top_up_id, refund=self, from_status=old, to_status=to, user=user,
            reason=reason[:200],
        )  # fmt: skip


class TopUpEvent(models.Model):
    """Every status change of a gateway top-up or of its refund: who, when, from, to, why."""

    top_up = models.ForeignKey(
        TopUp, on_delete=models.PROTECT, related_name="events", verbose_name=_("top-up")
    )
    refund = optional_link(TopUpRefund, _("refund"), related_name="events")
    from_status = models.CharField(_("from status"), max_length=10, blank=True)
    to_status = models.CharField(_("to status"), max_length=10)
    user = staff_member()
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("top-up event")
        verbose_name_plural = _("top-up events")


# Why something was given back, as the services write it (a statement line's reason ends with
# it, a coupon's trail has it): read in the reader's language (`Move.reason_text`).
GIVEN_BACK_WHY = {
    "used": _("used"),
    "taken off": _("taken off the bill"),
    "bill voided": _("the bill was voided"),
    "bill refunded": _("the bill was refunded"),
    "bill closed without using it": _("the bill did not use it"),
    "bill went down": _("the bill went down: these points bought nothing"),
}


class Move(models.Model):
    """One line of a member's statement (流水): what changed, by how much, who, when, why.

    Amounts are signed changes (+ in, − out) of principal, bonus and points, with what each
    stood at afterwards.
    """

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("top-up")
        TOP_UP_REFUND = "top_up_refund", _("top-up refunded")
        TOP_UP_UNREFUND = "refund_failed", _("top-up refund failed: back in the wallet")
        SPEND = "spend", _("paid by balance")
        REFUND = "refund", _("refund to balance")
        ADJUST = "adjust", _("adjustment")
        POINTS_EARN = "points_earn", _("points earned")
        POINTS_SPEND = "points_spend", _("points used")
        POINTS_REVERSE = "points_reverse", _("points taken back")
        POINTS_EXPIRE = "points_expire", _("points expired")
        POINTS_RETURN = "points_return", _("points given back")
        COUPON = "coupon", _("coupon used")
        COUPON_BACK = "coupon_back", _("coupon given back")
        JOINED = "joined", _("joined")
        FROZEN = "frozen", _("frozen")
        UNFROZEN = "unfrozen", _("unfrozen")
        ERASED = "erased", _("personal data deleted")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="moves", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    principal = MoneyField(_("principal"), default=0)
    bonus = MoneyField(_("bonus"), default=0)
    points = models.IntegerField(_("points"), default=0)
    principal_after = MoneyField(_("principal after"))
    bonus_after = MoneyField(_("bonus after"))
    points_after = models.PositiveIntegerField(_("points after"))
    payment = optional_link("payments.Payment", _("payment"))
    refund = optional_link("payments.Refund", _("refund"))
    top_up = optional_link(TopUp, _("top-up"), related_name="moves")
    tab = optional_link("orders.Tab", _("tab"))
    user = staff_member()
    # A `points_return` names the `points_spend` it gives back (all or part of): what is still
    # spent is the spend less its returns, so no path gives the same points back twice.
    returns = optional_link("self", _("gives back"), related_name="returned")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # The till's request key of a join, a top-up refund or an adjustment: the same key again
    # (a second tap) finds this line and changes nothing more. Empty for the rest.
    key = models.CharField(_("request key"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement")
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~models.Q(key=""), name="member_move_key_once"
            )
        ]

    @property
    def amount(self) -> Decimal:
        return self.principal + self.bonus

    @property
    def reason_text(self) -> str:
        """The reason as the reader reads it: a giving back's why ("满40减10 ABC · bill
        voided") in the active language; anything else as written."""
        if self.kind not in (self.Kind.POINTS_RETURN, self.Kind.COUPON, self.Kind.COUPON_BACK):
            return self.reason
        head, dot, why = self.reason.rpartition(" · ")
        return f"{head}{dot}{GIVEN_BACK_WHY[why]}" if why in GIVEN_BACK_WHY else self.reason

    @property
    def balance_after(self) -> Decimal:
        return self.principal_after + self.bonus_after
