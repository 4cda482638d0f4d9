"""Members (会员), their levels, stored value (储值) and points (积分), and the statement of every
move. `payments.members.services` is the only writer; payments/README.md, "Members", says why.
"""

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from restaurant.lib.errors import Code, Refused
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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("made by"),
    )
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


class TopUp(models.Model):
    """Money paid in to a member's wallet (储值) at the till: principal and the bonus it earned."""

    class Method(models.TextChoices):
        CASH = "cash", _("cash")
        CARD = "card", _("card")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="top_ups", verbose_name=_("member")
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    amount = MoneyField(_("amount paid in"))
    bonus = MoneyField(_("bonus"), default=0)
    refunded = MoneyField(_("refunded"), default=0)
    key = models.CharField(_("request key"), max_length=64)
    terminal_ref = models.CharField(_("terminal reference"), max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff member"),
    )
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
    payment = models.ForeignKey(
        "payments.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("payment"),
    )
    refund = models.ForeignKey(
        "payments.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("refund"),
    )
    top_up = models.ForeignKey(
        TopUp,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
        verbose_name=_("top-up"),
    )
    tab = models.ForeignKey(
        "orders.Tab",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tab"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff member"),
    )
    # A `points_return` names the `points_spend` it gives back (all or part of): what is still
    # spent is the spend less its returns, so no path gives the same points back twice.
    returns = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="returned",
        verbose_name=_("gives back"),
    )
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
