"""Payments, refunds, their audit trail, the cashier's ledger, and the sandbox gateway's records.

The state machines are explicit tables; `payments.services` is the only writer.
"""

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from restaurant.lib.errors import Code, Refused
from restaurant.lib.fields import optional_link, staff_member
from restaurant.lib.money import MoneyField

from . import ledger


def new_reference() -> str:
    """Our id of a payment at a gateway (WeChat's `out_trade_no`): unguessable, 32 characters."""
    return "dc" + secrets.token_hex(15)


class Method(models.TextChoices):
    CASH = "cash", _("cash")
    CARD = "card", _("card")
    QR = "qr", _("QR pay")
    MEMBER = "member", _("member balance")


class PaymentQuerySet(models.QuerySet):
    def under_way(self, now: datetime | None = None) -> "PaymentQuerySet":
        """Pending and not yet past its expiry: what readers count as an unfinished payment."""
        return self.filter(status=Payment.Status.PENDING).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gte=now or timezone.now())
        )

    def overdue(self, now: datetime | None = None) -> "PaymentQuerySet":
        return self.filter(status=Payment.Status.PENDING, expires_at__lt=now or timezone.now())


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SUCCEEDED = "succeeded", _("paid")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")
        CANCELLED = "cancelled", _("cancelled")

    # Money taken is a fact: a succeeded payment never changes status; refunds are Refund rows.
    # An expired or cancelled payment may still succeed when the gateway says it took the money
    # after all (its word wins); an overpaid tab then refunds it at once.
    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED, Status.EXPIRED, Status.CANCELLED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
        Status.EXPIRED: {Status.SUCCEEDED},
        Status.CANCELLED: {Status.SUCCEEDED},
    }

    class Scope(models.TextChoices):
        BALANCE = "balance", _("the whole bill")
        SHARE = "share", _("an equal share")
        MINE = "mine", _("my dishes")
        AMOUNT = "amount", _("an amount")

    tab = models.ForeignKey(
        "orders.Tab", on_delete=models.PROTECT, related_name="+", verbose_name=_("tab")
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    provider = models.CharField(_("provider"), max_length=20)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    amount = MoneyField(_("amount"), help_text=_("What the bill is paid with."))
    tendered = MoneyField(_("tendered"), null=True, blank=True)
    change = MoneyField(pgettext_lazy("cash change", "change"), default=0)
    refunded = MoneyField(_("refunded"), default=0)
    version = models.PositiveIntegerField(
        _("bill version"), help_text=_("The settlement version it was made against.")
    )
    key = models.CharField(
        _("request key"), max_length=64, help_text=_("The client's idempotency key.")
    )
    reference = models.CharField(_("reference"), max_length=40, unique=True, default=new_reference)
    gateway_txn = models.CharField(
        _("gateway transaction"), max_length=64, null=True, blank=True, unique=True
    )
    terminal_ref = models.CharField(_("terminal reference"), max_length=64, blank=True)
    code_url = models.CharField(_("QR code address"), max_length=300, blank=True)
    # 付款码: the payer's code scanned at the till (WeChat 付款码支付, Alipay bar_code). Such a
    # payment is never "closed" but reversed/cancelled at its gateway, which also gives back
    # money taken (README, "付款码 at the till").
    by_code = models.BooleanField(_("paid with a payment code"), default=False)
    scope = models.CharField(
        _("pays for"), max_length=10, choices=Scope.choices, default=Scope.AMOUNT
    )
    diner = optional_link("orders.Diner", _("diner"), on_delete=models.SET_NULL)
    user = staff_member()
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # A worker closing this payment at its gateway claims it until then (compare-and-set), so
    # that several worker copies close each payment once; a crashed worker's claim runs out.
    closing_until = models.DateTimeField(_("closing claimed until"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    # Not a field: the tab's settlement as the transaction that took this payment left it, set
    # by `services.payment_start` so that its answer need not read the bill again; None when
    # not known (read it then: orders.settlement.build_settlement).
    settlement: dict[str, Any] | None = None

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["tab", "key"], name="payment_key_once_per_tab"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded__lte=models.F("amount")), name="refund_within_payment"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="payment_pending_expiry"),
            # The reports and the reconciliation read a period's payments by when they succeeded.
            models.Index(fields=["completed_at"], name="payment_completed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} #{self.pk}"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    @property
    def subject(self) -> str:
        """What the payer's WeChat or Alipay shows the charge as (a top-up has its own)."""
        return f"{settings.RESTAURANT_NAME} #{self.tab_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.EXPIRED

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def transition(
        self, to: str, *, user: User | None = None, reason: str = "", **fields: Any
    ) -> None:
        """The one writer of a payment's status: checks the move against TRANSITIONS, saves it
        with `fields` (failure, completed_at, gateway_txn …), records a PaymentEvent. Call on
        the row the caller has locked; an illegal move raises Refused and changes nothing."""
        old = self.status
        if not self.can_move_to(to):
            raise Refused(
                Code.ILLEGAL_TRANSITION, thing=_("the payment"), status=self.get_status_display()
            )
        self.status = self.Status(to)
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])
        PaymentEvent.objects.create(
            payment=self, from_status=old, to_status=to, user=user, reason=reason[:200]
        )

    def overdue(self, now: datetime | None = None) -> bool:
        """Still pending past its expiry: the worker will close it at the gateway."""
        return (
            self.status == self.Status.PENDING
            and self.expires_at is not None
            and self.expires_at < (now or timezone.now())
        )

    def as_read(self, now: datetime | None = None) -> "Payment":
        """Expiry is computed on read: an overdue payment reads as expired before the worker has
        closed it (the status is changed in memory only; readers never save)."""
        if self.overdue(now):
            self.status = self.Status.EXPIRED
        return self

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded if self.status == self.Status.SUCCEEDED else Decimal(0)

    @property
    def refund_state(self) -> str:
        """`refunded`, `partially refunded` or empty: derived from the refunds, not a status."""
        if not self.refunded:
            return ""
        return "refunded" if self.refunded >= self.amount else "partially_refunded"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("refunding")
        SUCCEEDED = "succeeded", _("refunded")
        FAILED = "failed", _("refund failed")

    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
    }

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = MoneyField(_("amount"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("reason"), max_length=200)
    automatic = models.BooleanField(
        _("automatic"), default=False, help_text=_("Made by the system (退菜, overpaid).")
    )  # NULL, not "": refunds without a key must not collide in the unique (payment, key).
    key = models.CharField(_("request key"), max_length=64, null=True, blank=True)  # noqa: DJ001
    gateway_refund = models.CharField(
        _("gateway refund number"), max_length=64, null=True, blank=True, unique=True
    )
    user = staff_member()
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(fields=["payment", "key"], name="refund_key_once_per_payment"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]
        indexes = [models.Index(fields=["completed_at"], name="refund_completed_at")]

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    def transition(
        self, to: str, *, user: User | None = None, reason: str = "", **fields: Any
    ) -> None:
        """The one writer of a refund's status, as `Payment.transition`; the event is recorded
        on its payment."""
        old = self.status
        if not self.can_move_to(to):
            raise Refused(
                Code.ILLEGAL_TRANSITION, thing=_("the refund"), status=self.get_status_display()
            )
        self.status = self.Status(to)
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])
        PaymentEvent.objects.create(
            payment_id=self.payment_id, refund=self, from_status=old, to_status=to, user=user,
            reason=reason[:200],
        )  # fmt: skip


class PaymentEvent(models.Model):
    """Every status change of a payment or refund: who, when, from, to, why."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="events", verbose_name=_("payment")
    )
    refund = optional_link(Refund, _("refund"), related_name="events")
    from_status = models.CharField(_("from status"), max_length=10, blank=True)
    to_status = models.CharField(_("to status"), max_length=10)
    user = staff_member()
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["created_at", "id"]


class AppendOnly(Exception):
    """The books are never edited: corrections are new entries."""


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("Ledger entries are never changed; write a correcting entry.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Ledger entries are never deleted; write a correcting entry.")


class LedgerEntry(models.Model):
    """出纳记账: one movement of money in one account, signed (in +, out −). Append-only.

    The `member` account is stored value (储值), money owed to members (预收款, a liability): its
    entries are signed as what is owed (a top-up +, a payment by balance −, a refund to the
    balance +), so its sum is the sum of all members' balances at every moment. A top-up has no
    tab and no payment: it is not sales; spending the balance (a `member` payment) is.
    """

    class Account(models.TextChoices):
        CASH = "cash", _("cash drawer")
        CARD = "card", _("card terminal")
        QR = "qr", _("QR pay")
        MEMBER = "member", _("owed to members")

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("payment")
        CHANGE = "change", _("change given")
        REFUND = "refund", _("refund")
        TOP_UP = "top_up", _("top-up")
        BONUS = "bonus", _("top-up bonus")
        TOP_UP_REFUND = "top_up_ref", _("top-up refunded")
        ADJUST = "adjust", _("balance adjusted")

    account = models.CharField(_("account"), max_length=10, choices=Account.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = MoneyField(_("amount"))
    tab = optional_link("orders.Tab", _("tab"))
    payment = optional_link(Payment, _("payment"), related_name="ledger")
    member = optional_link("members.Member", _("member"))
    top_up = optional_link("members.TopUp", _("top-up"))
    refund = optional_link(Refund, _("refund"), related_name="ledger")
    user = staff_member()
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # The hash chain (payments/ledger.py): unique links, so the chain can never fork.
    previous_hash = models.CharField(_("previous hash"), max_length=64, unique=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, unique=True, editable=False)

    # Not stored: the shift (locked) and business day the books place a new entry in before
    # the append lock is taken (books.services.entries_place).
    books_shift: "Shift | None" = None
    books_day: date | None = None

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Ledger entries are never changed; write a correcting entry.")
        with transaction.atomic(savepoint=False):
            ledger.appending.send(sender=LedgerEntry, entries=[self])
            self._chain([self])
            super().save(*args, **kwargs)

    @classmethod
    def append(cls, entries: list["LedgerEntry"]) -> None:
        """Chain and write new entries at the end of the books, the lock taken and the last
        hash read once for all of them. Call it last in its transaction: the append lock is
        held until the commit, and every payment in the restaurant queues behind it (README,
        Performance)."""
        with transaction.atomic(savepoint=False):
            ledger.appending.send(sender=cls, entries=entries)
            cls._chain(entries)
            for entry in entries:
                super(LedgerEntry, entry).save()  # chained above: Model.save, not ours again

    @classmethod
    def _chain(cls, entries: list["LedgerEntry"]) -> None:
        previous = ledger.lock_and_read_head()
        if previous is None:  # not PostgreSQL: the database serialises writers by itself
            previous = cls.objects.order_by("-id").values_list("hash", flat=True).first()
            previous = previous or ledger.GENESIS
        for entry in entries:
            entry.previous_hash = previous
            entry.hash = previous = ledger.entry_digest(entry, previous)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Ledger entries are never deleted; write a correcting entry.")


class SandboxCharge(models.Model):
    """The sandbox gateway's own record of a charge: what a real gateway keeps on its side.

    Only `payments.providers.sandbox` touches it; our payment learns its outcome from the signed
    notification, as it would from WeChat Pay or Alipay.
    """

    class Status(models.TextChoices):
        OPEN = "open", "open"
        PAID = "paid", "paid"
        DECLINED = "declined", "declined"
        CLOSED = "closed", "closed"

    id = models.CharField(_("charge number"), primary_key=True, max_length=40)
    out_trade_no = models.CharField(_("merchant order number"), max_length=40, unique=True)
    amount_cents = models.PositiveIntegerField(_("amount (fen)"))
    refunded_cents = models.PositiveIntegerField(_("refunded (fen)"), default=0)
    description = models.CharField(_("description"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    transaction_id = models.CharField(_("transaction number"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox charge")
        verbose_name_plural = _("sandbox charges")

    @property
    def amount(self) -> Decimal:
        return (Decimal(self.amount_cents) / 100).quantize(Decimal("0.01"))


class SandboxRefund(models.Model):
    """The sandbox gateway's record of one refund, under the merchant's refund number: the same
    number again is the same refund (given back once), and the number can be asked about, as
    WeChat Pay's and Alipay's refund queries answer."""

    out_refund_no = models.CharField(_("merchant refund number"), max_length=64, unique=True)
    charge = models.ForeignKey(SandboxCharge, on_delete=models.CASCADE, related_name="refunds")
    refund_id = models.CharField(_("refund number"), max_length=40, unique=True)
    amount_cents = models.PositiveIntegerField(_("amount (fen)"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox refund")
        verbose_name_plural = _("sandbox refunds")


class GatewayBill(models.Model):
    """A gateway's daily trade bill (WeChat Pay 交易账单, Alipay 业务明细), fetched, checked and
    parsed (payments/bills.py), kept for the books to reconcile against. One per gateway and day.
    """

    provider = models.CharField(_("provider"), max_length=20)
    bill_date = models.DateField(_("bill date"))
    digest = models.CharField(max_length=64, blank=True, help_text="The gateway's hash, checked.")
    rows = models.JSONField(default=list, help_text="One object per trade or refund.")
    totals = models.JSONField(default=dict)
    fetched_at = models.DateTimeField(_("fetched"), default=timezone.now)

    class Meta:
        ordering = ["-bill_date", "provider"]
        verbose_name = _("gateway bill")
        verbose_name_plural = _("gateway bills")
        constraints = [
            models.UniqueConstraint(fields=["provider", "bill_date"], name="bill_once_per_day")
        ]


# The books (shifts, postings, closed days) are models of this app, kept in payments/books/.
from .books.models import BusinessDay, CashMovement, Posting, Shift, TabDay  # noqa: E402, F401

# The reports' roll-up of closed days, kept in payments/reports/.
from .reports.models import (  # noqa: E402, F401
    DayRollup,
    DishDay,
    DishMonth,
    HourDay,
    MethodDay,
    MethodMonth,
    MonthRollup,
    StaffDay,
    TableDay,
)
