import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from restaurant.lib.diners import diner_marker
from restaurant.lib.errors import Code, Refused
from restaurant.lib.fields import optional_link, staff_member
from restaurant.lib.money import MoneyField

CHINESE_NUMBERS = "一二三四五六七八九十"


def new_token() -> str:
    return secrets.token_urlsafe(16)


class Table(models.Model):
    code = models.CharField(
        _("code"), max_length=10, unique=True, help_text=_("What people read: A12")
    )
    name = models.CharField(_("name"), max_length=40, blank=True)
    area = models.CharField(_("area"), max_length=30, blank=True)
    minimum_spend = MoneyField(
        _("minimum spend"),
        default=0,
        help_text=_("包间最低消费: a bill's dishes below this pay the shortfall. 0: none."),
    )
    seats = models.PositiveSmallIntegerField(_("seats"), default=4)
    token = models.CharField(
        _("QR token"), max_length=40, unique=True, default=new_token, editable=False
    )
    active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("table")
        verbose_name_plural = _("tables")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or f"{self.area} {self.code}".strip()

    def rotate_token(self) -> None:
        """A new token: QR codes printed before stop working at once."""
        self.token = new_token()
        self.save(update_fields=["token"])

    @property
    def diner_path(self) -> str:
        return f"/t/{self.token}/"

    @property
    def diner_url(self) -> str:
        return settings.PUBLIC_URL + self.diner_path


class Area(models.Model):
    """A table area (大厅, 包间 …) and its charge per guest, found by the tables' `area` name."""

    name = models.CharField(_("name"), max_length=30, unique=True)
    seat_charge = MoneyField(
        _("charge per guest"), default=0, help_text=_("餐位费/茶位费 per guest. 0: none.")
    )
    seat_charge_name = models.CharField(
        _("charge name"), max_length=20, blank=True, help_text=_("餐位费 or 茶位费 …")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("table area")
        verbose_name_plural = _("table areas")

    def __str__(self) -> str:
        return self.name


class Tab(models.Model):
    """One dining visit at a table: its diners, cart, orders and, later, its bill."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        SETTLING = "settling", _("settling")
        SETTLED = "settled", _("settled")
        CLOSED = "closed", _("closed")

    TRANSITIONS = {
        Status.OPEN: {Status.SETTLING, Status.SETTLED, Status.CLOSED},
        Status.SETTLING: {Status.OPEN, Status.SETTLED},
        Status.SETTLED: {Status.OPEN, Status.CLOSED},
        Status.CLOSED: set(),
    }

    table = models.ForeignKey(
        Table, on_delete=models.PROTECT, related_name="tabs", verbose_name=_("table")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    guests = models.PositiveSmallIntegerField(_("guests"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Grows with every change of what the tab owes (the settlement version).
    version = models.PositiveIntegerField(_("version"), default=1)
    # Grows with every change of the shared cart; a cart is submitted at the version it showed.
    cart_version = models.PositiveIntegerField(_("cart version"), default=1)
    diner_count = models.PositiveSmallIntegerField(_("phones joined"), default=0)
    # The bill: a discount on the whole tab, and when the diners asked for the bill.
    discount = MoneyField(_("bill discount"), default=0)
    discount_reason = models.CharField(_("discount reason"), max_length=200, blank=True)
    bill_requested_at = models.DateTimeField(_("bill asked at"), null=True, blank=True)
    # The member on the bill, as the payment side named them (orders keeps an opaque reference,
    # a label and the level's discount: the share of the price a member pays, 0.90 = 九折).
    member_ref = models.CharField(_("member"), max_length=64, blank=True)
    member_label = models.CharField(_("member name"), max_length=60, blank=True)
    member_rate = models.DecimalField(
        _("member discount rate"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    # Table charges as they were when the visit began (a later change of the area's or the
    # room's setting does not change a bill already open).
    seat_charge = MoneyField(_("charge per guest"), default=0)
    seat_charge_name = models.CharField(_("charge name"), max_length=20, blank=True)
    minimum_spend = MoneyField(_("minimum spend"), default=0)

    class Meta:
        verbose_name = _("tab")
        verbose_name_plural = _("tabs")
        constraints = [
            models.UniqueConstraint(
                fields=["table"],
                condition=~models.Q(status="closed"),
                name="one_current_tab_per_table",
            )
        ]

    def __str__(self) -> str:
        return f"{self.table.code} #{self.pk}"

    @property
    def group(self) -> str:
        return f"tab.{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def can_reopen(self) -> bool:
        """A settled (paid) tab may be opened again to order more; it owes the difference."""
        return self.status == self.Status.SETTLED

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    def transition(self, to: str, *, user: User | None = None, reason: str = "") -> "Tab.Status":
        """The one writer of a tab's status: checks the move against TRANSITIONS, saves it (and
        when it closed), records it as a TabEvent. Call on the row the caller has locked
        (`orders.services.lock_tab`); an illegal move raises Refused and changes nothing."""
        old, new = self.Status(self.status), self.Status(to)
        if not self.can_move_to(new):
            raise Refused(Code.ILLEGAL_TRANSITION, thing=_("the bill"), status=old.label)
        self.status = new
        fields = ["status"]
        if new == self.Status.CLOSED:
            self.closed_at = timezone.now()
            fields.append("closed_at")
        self.save(update_fields=fields)
        TabEvent.objects.create(
            tab=self, kind="tab.status", from_status=old, to_status=new, user=user, reason=reason
        )
        return old


class Diner(models.Model):
    """A phone at a tab. Nothing personal: a random browser key and a nickname."""

    tab = models.ForeignKey(
        Tab, on_delete=models.CASCADE, related_name="diners", verbose_name=_("tab")
    )
    key = models.CharField(_("phone key"), max_length=40)
    number = models.PositiveSmallIntegerField(_("guest number"))
    nickname = models.CharField(_("nickname"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("joined at"), default=timezone.now)

    class Meta:
        verbose_name = _("diner")
        verbose_name_plural = _("diners")
        constraints = [
            models.UniqueConstraint(fields=["tab", "key"], name="one_diner_per_browser_per_tab"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def marker(self) -> str:
        """Marks this phone's lines in the cart that every phone sees (restaurant.lib.diners)."""
        return diner_marker(self.key)

    @property
    def label(self) -> str:
        if self.nickname:
            return self.nickname
        if (get_language() or "").startswith("en"):
            return f"Guest {self.number}"
        if self.number <= len(CHINESE_NUMBERS):
            return f"{CHINESE_NUMBERS[self.number - 1]}号"
        return f"{self.number}号"


class CartItem(models.Model):
    """A dish in the table's shared cart, not yet sent to the kitchen."""

    # Priced when read, from the menu as it is now (`selectors.cart_items`); never stored.
    unit_price: Decimal
    amount: Decimal

    tab = models.ForeignKey(
        Tab, on_delete=models.CASCADE, related_name="cart_items", verbose_name=_("tab")
    )
    diner = models.ForeignKey(
        Diner, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("diner")
    )
    dish = models.ForeignKey(
        "menu.Dish", on_delete=models.CASCADE, related_name="+", verbose_name=_("dish")
    )
    options = models.ManyToManyField(
        "menu.Option", blank=True, related_name="+", verbose_name=_("options")
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    note = models.CharField(_("note"), max_length=200, blank=True)
    held = models.BooleanField(
        _("held"), default=False, help_text=_("叫起: the kitchen waits until staff fire it.")
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        ordering = ["created_at", "id"]


class Order(models.Model):
    """One submission round of a tab (下单, then each 加菜)."""

    tab = models.ForeignKey(
        Tab, on_delete=models.PROTECT, related_name="orders", verbose_name=_("tab")
    )
    number = models.PositiveSmallIntegerField(_("round"))
    key = models.CharField(
        _("submission key"), max_length=64, help_text=_("The client's idempotency key.")
    )
    diner = optional_link(Diner, _("diner"), on_delete=models.SET_NULL)
    user = staff_member()
    created_at = models.DateTimeField(_("ordered at"), default=timezone.now, db_index=True)
    # Pay first (先付后吃): the order waits for its payment before the kitchen sees it.
    awaiting_payment = models.BooleanField(_("awaiting payment"), default=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["tab", "key"], name="order_key_once_per_tab"),
            models.UniqueConstraint(fields=["tab", "number"], name="order_number_once_per_tab"),
        ]

    def __str__(self) -> str:
        return f"{self.tab.table.code} · {self.number}"


class OrderLine(models.Model):
    """A dish as ordered: a snapshot that later menu edits never change."""

    class Status(models.TextChoices):
        HELD = "held", _("held")
        QUEUED = "queued", _("waiting")
        COOKING = "cooking", _("cooking")
        READY = "ready", _("ready")
        SERVED = "served", _("served")
        VOIDED = "voided", _("voided")

    # The explicit table of allowed moves; backward moves are a kitchen's recall.
    TRANSITIONS = {
        Status.HELD: {Status.QUEUED, Status.VOIDED},
        Status.QUEUED: {Status.COOKING, Status.READY, Status.HELD, Status.VOIDED},
        Status.COOKING: {Status.READY, Status.QUEUED, Status.VOIDED},
        Status.READY: {Status.SERVED, Status.COOKING, Status.VOIDED},
        Status.SERVED: {Status.READY, Status.VOIDED},
        Status.VOIDED: set(),
    }
    KITCHEN_OPEN = (Status.HELD, Status.QUEUED, Status.COOKING)
    # Tapping a line moves it on one step.
    NEXT = {
        Status.QUEUED: Status.COOKING,
        Status.COOKING: Status.READY,
        Status.READY: Status.SERVED,
    }

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order")
    )
    dish = models.ForeignKey(
        "menu.Dish", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("dish")
    )
    station = models.ForeignKey(
        "menu.Station",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("kitchen station"),
    )
    diner = optional_link(Diner, _("diner"), on_delete=models.SET_NULL)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    options = models.JSONField(_("options"), default=list, help_text=_("Option names as ordered."))
    options_en = models.JSONField(_("English options"), default=list)
    option_ids = models.JSONField(_("option ids"), default=list)
    note = models.CharField(_("note"), max_length=200, blank=True)
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    unit_price = MoneyField(_("unit price"))
    # 会员价 as it was at order time (the dish's member price plus its options), if it had one.
    member_price = MoneyField(_("member price"), null=True, blank=True)
    discount = MoneyField(_("discount"), default=0)
    discount_reason = models.CharField(_("discount reason"), max_length=200, blank=True)
    amount = MoneyField(_("amount"))
    reserved_stock = models.BooleanField(
        _("stock reserved"), default=False, help_text=_("Stock was taken; a void returns it.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    status_at = models.DateTimeField(_("status since"), default=timezone.now)
    urged_at = models.DateTimeField(_("last hurried"), null=True, blank=True)
    urge_count = models.PositiveSmallIntegerField(_("times hurried"), default=0)
    # A dish voided while the kitchen had it (held, waiting, cooking) keeps its ticket on the
    # boards, struck through, until then, or until a cook clears the ticket (None).
    void_shown_until = models.DateTimeField(_("void shown until"), null=True, blank=True)

    class Meta:
        verbose_name = _("ordered dish")
        verbose_name_plural = _("ordered dishes")
        ordering = ["id"]
        indexes = [models.Index(fields=["status"], name="orderline_status")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    @property
    def local_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name

    @property
    def local_options(self) -> list[str]:
        if (get_language() or "").startswith("en") and self.options_en:
            return self.options_en
        return self.options

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    @property
    def next_status(self) -> "OrderLine.Status | None":
        """Where a tap on the kitchen screen moves it (None: a tap does nothing)."""
        return self.NEXT.get(self.Status(self.status))

    @property
    def is_being_made(self) -> bool:
        """Waiting for the kitchen or cooking: what a tap on the kitchen screen moves on."""
        return self.status in (self.Status.QUEUED, self.Status.COOKING)

    @property
    def can_urge(self) -> bool:
        """催菜 is for a dish still being made."""
        return self.is_being_made

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.QUEUED

    @property
    def is_held(self) -> bool:
        """叫起: waiting for staff to fire it."""
        return self.status == self.Status.HELD

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_voided(self) -> bool:
        return self.status == self.Status.VOIDED

    def transition(
        self,
        to: str,
        *,
        user: User | None = None,
        reason: str = "",
        expect: str | None = None,
        approved_by: User | None = None,
    ) -> "OrderLine.Status":
        """The one writer of a line's status: checks the move against TRANSITIONS, writes it by
        compare-and-set, records it as a TabEvent. Returns the status it left (also kept as
        `from_status`). Needs `order` (select_related) for the tab.

        `expect` is the status the screen showed: when the line has moved since, nothing changes.
        """
        new = self.Status(to)
        if expect is not None and self.status != expect:
            raise Refused(Code.LINE_MOVED)
        if not self.can_move_to(new):
            raise Refused(
                Code.ILLEGAL_TRANSITION, thing=_("the dish"), status=self.get_status_display()
            )
        now = timezone.now()
        # Compare-and-set: when two screens move the same line at once (a bump racing a void),
        # only one move counts and the other is told.
        if not OrderLine.objects.filter(pk=self.pk, status=self.status).update(
            status=new, status_at=now
        ):
            raise Refused(Code.LINE_MOVED)
        self.event = TabEvent.objects.create(
            tab_id=self.order.tab_id,
            line=self,
            kind="line.voided" if new == self.Status.VOIDED else "line.status",
            from_status=self.status,
            to_status=new,
            user=user,
            approved_by=approved_by,
            reason=reason,
        )
        self.from_status, self.status, self.status_at = self.Status(self.status), new, now
        return self.from_status


class TabEvent(models.Model):
    """The audit trail of a tab: every submission and every status change, who, when and why."""

    tab = models.ForeignKey(
        Tab, on_delete=models.CASCADE, related_name="events", verbose_name=_("tab")
    )
    line = optional_link(OrderLine, _("dish line"), on_delete=models.CASCADE, related_name="events")

    class Kind(models.TextChoices):
        """What happened; the services write these values, the admin shows their labels."""

        ORDER_SUBMITTED = "order.submitted", _("order placed")
        ORDER_RELEASED = "order.released", _("order sent to the kitchen after payment")
        TAB_STATUS = "tab.status", _("bill status changed")
        TAB_DISCOUNT = "tab.discount", _("bill discount")
        BILL_REQUESTED = "bill.requested", _("asked to pay at the counter")
        LINE_STATUS = "line.status", _("dish status changed")
        LINE_VOIDED = "line.voided", _("dish voided (退菜)")
        LINE_VOID_CLEARED = "line.void_cleared", _("voided dish cleared from the kitchen")
        LINE_URGED = "line.urged", _("dish hurried (催菜)")
        LINE_DISCOUNT = "line.discount", _("dish discount")
        TOKEN_ROTATED = "table.token_rotated", _("table's QR code replaced")
        REFUND = "refund", _("refund approved by a manager")
        REFUSED = "refused", _("refused: needs a manager")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    from_status = models.CharField(_("from status"), max_length=10, blank=True)
    to_status = models.CharField(_("to status"), max_length=10, blank=True)
    user = staff_member()
    diner = optional_link(Diner, _("diner"), on_delete=models.SET_NULL)
    # The manager who approved `user`'s action beyond a cashier's limit (orders/controls.py).
    approved_by = staff_member(_("approved by"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("tab event")
        verbose_name_plural = _("tab events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def status_label(self, status: str) -> str:
        """A from/to status as its people read it: a tab's or a dish's, by the event's kind."""
        choices = Tab.Status if self.kind.startswith("tab.") else OrderLine.Status
        return str(dict(choices.choices).get(status, status))


class TabAdjustment(models.Model):
    """Money off a bill that the payment side put on it (a coupon, points), evaluated by the
    settlement against the bill as it is now: a fixed `amount`, or a coupon's `rule`
    (orders/pricing.py). Taken off by deleting the row; the tab's trail keeps both moves."""

    class Kind(models.TextChoices):
        COUPON = "coupon", _("coupon")
        POINTS = "points", _("points")

    tab = models.ForeignKey(
        Tab, on_delete=models.CASCADE, related_name="adjustments", verbose_name=_("tab")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    ref = models.CharField(
        _("reference"), max_length=64, help_text=_("The payment side's id of the coupon …")
    )
    reason = models.CharField(_("reason"), max_length=200)
    amount = MoneyField(_("amount"), null=True, blank=True)
    rule = models.JSONField(_("rule"), null=True, blank=True)
    user = staff_member()
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("bill adjustment")
        verbose_name_plural = _("bill adjustments")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tab", "kind", "ref"], name="adjustment_once_per_tab"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"


class TabPayment(models.Model):
    """A payment as the payment side reported it back; the settlement lists these.

    `payments` owns the payment itself; orders keeps only what a settlement shows, so that
    ordering never has to read another app's tables.
    """

    tab = models.ForeignKey(
        Tab, on_delete=models.CASCADE, related_name="payments", verbose_name=_("tab")
    )
    payment = models.CharField(
        _("payment number"), max_length=40, unique=True, help_text=_("The payment side's id.")
    )
    method = models.CharField(_("method"), max_length=20)
    amount = MoneyField(_("amount"))
    refunded = MoneyField(_("refunded"), default=0)
    status = models.CharField(_("status"), max_length=20)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment on a tab")
        verbose_name_plural = _("payments on tabs")
        ordering = ["created_at", "id"]
