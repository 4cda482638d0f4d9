"""Shifts, cash movements, where each ledger entry belongs (shift and business day), and closed
days. Part of the `payments` app (payments/models.py imports them); `books.services` writes them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from restaurant.lib.fields import optional_link
from restaurant.lib.money import MoneyField


class Shift(models.Model):
    """A cashier's time at a till (收银台), from opening with a float (备用金) to the handover.

    The handover keeps what was expected per method and what was counted, so the slip and the Z
    report read the figures of that moment, never figures recomputed later."""

    till = models.CharField(_("till"), max_length=30)
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cashier"),
    )
    float_amount = MoneyField(_("float (备用金)"))
    opened_at = models.DateTimeField(_("opened"), default=timezone.now, db_index=True)
    day = models.DateField(_("business day"))
    closed_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    # The handover (交班).
    expected = models.JSONField(_("expected per method"), default=dict, blank=True)
    expected_cash = MoneyField(_("cash expected"), null=True, blank=True)
    counted = MoneyField(_("cash counted"), null=True, blank=True)
    denominations = models.JSONField(_("count by denomination"), default=dict, blank=True)
    difference = MoneyField(_("over (+) or short (−)"), null=True, blank=True)
    difference_reason = models.CharField(_("reason for the difference"), max_length=200, blank=True)
    left_in_drawer = MoneyField(_("left in the drawer"), null=True, blank=True)
    # Idempotency keys of the API (and the pages' forms): the same key again answers this shift.
    open_key = models.CharField(_("key of the opening"), max_length=64, blank=True)
    handover_key = models.CharField(_("key of the handover"), max_length=64, blank=True)

    # Not stored: set by books.services when a key's replay answered this existing row.
    replayed = False

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            # One open shift per till and per cashier: two requests opening at once, one wins.
            models.UniqueConstraint(
                fields=["till"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_shift_per_till",
            ),
            models.UniqueConstraint(
                fields=["cashier"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_shift_per_cashier",
            ),
            models.CheckConstraint(
                condition=models.Q(float_amount__gte=0), name="float_not_negative"
            ),
            # A key opens one shift per cashier: two requests with one key, one opens it.
            models.UniqueConstraint(
                fields=["cashier", "open_key"],
                condition=~models.Q(open_key=""),
                name="one_shift_per_open_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.till} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def taken_out(self) -> Decimal | None:
        """Cash taken out of the drawer at the handover (to the safe, the bank)."""
        if self.counted is None or self.left_in_drawer is None:
            return None
        return self.counted - self.left_in_drawer


class CashMovement(models.Model):
    """Cash paid into the drawer (more change) or out of it (a supplier paid, petty cash), with a
    reason. Never changed: a mistake is corrected by a movement the other way."""

    class Direction(models.TextChoices):
        IN = "in", _("paid in")
        OUT = "out", _("paid out")

    shift = models.ForeignKey(
        Shift, on_delete=models.PROTECT, related_name="movements", verbose_name=_("shift")
    )
    day = models.DateField(_("business day"), db_index=True)
    direction = models.CharField(_("in or out"), max_length=3, choices=Direction.choices)
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff member"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    key = models.CharField(_("idempotency key"), max_length=64, blank=True)

    replayed = False  # not stored: set by books.services when a key's replay answered this row

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("cash paid in or out")
        verbose_name_plural = _("cash paid in or out")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="movement_amount_positive"
            ),
            # A key records one movement per staff member, whichever shift it went into.
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="one_movement_per_key"
            ),
        ]

    @property
    def signed(self) -> Decimal:
        return self.amount if self.direction == self.Direction.IN else -self.amount


class Posting(models.Model):
    """Where one ledger entry belongs: the shift and the business day open when the money moved.

    Decided once, when the entry is written (books.receivers), and kept: a day closed later, or
    a shift handed over, never changes where an entry already is. An entry written after its
    bill's day was closed belongs to the open day: that is what makes it an adjustment."""

    entry = models.OneToOneField(
        "payments.LedgerEntry",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="posting",
        verbose_name=_("ledger entry"),
    )
    shift = optional_link(Shift, _("shift"), related_name="postings")
    day = models.DateField(_("business day"), db_index=True)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")


class TabDay(models.Model):
    """The business day whose sales a bill counts in: the open day when it was first settled (or
    closed unpaid). Later changes to it are adjustments of the day they happen on."""

    tab = models.OneToOneField(
        "orders.Tab",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tab"),
    )
    day = models.DateField(_("business day"), db_index=True)

    class Meta:
        verbose_name = _("bill's business day")
        verbose_name_plural = _("bills' business days")


class BusinessDay(models.Model):
    """A closed business day (日结). Only closed days have a row; its Z report is kept as it was
    at the close, and never recomputed."""

    day = models.DateField(_("business day"), unique=True)
    closed_at = models.DateTimeField(_("closed"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    carried_over = models.JSONField(_("carried over"), default=list, blank=True)
    carry_reason = models.CharField(_("why carried over"), max_length=200, blank=True)
    report = models.JSONField(_("Z report"), default=dict)
    close_key = models.CharField(_("key of the close"), max_length=64, blank=True)

    replayed = False  # not stored: set by books.services when a key's replay answered this row

    class Meta:
        ordering = ["-day"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")

    def __str__(self) -> str:
        return self.day.isoformat()
