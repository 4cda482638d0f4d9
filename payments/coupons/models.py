"""Coupons (优惠券): what a coupon gives (`Coupon`, set by the manager) and each single-use code
of it (`CouponCode`), issued to a member or made in a batch to print or export.

On a bill a redeemed code is an adjustment of the ordering side (`orders.services.
tab_adjustment_add`) that the settlement evaluates against the bill as it is: this app keeps
who may use a code, when, and that it is used once."""

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from restaurant.lib.errors import Code, Refused
from restaurant.lib.fields import optional_link, staff_member
from restaurant.lib.money import MoneyField, money_str, yuan

# No 0/O or 1/I/L: a code is read aloud and typed at the till.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
WEEKDAYS = "1234567"  # ISO: Monday is 1


WEEKDAY_NAMES = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]


def _rate_words(rate: Decimal) -> str:
    """A 折扣券's rate as its readers say it: 0.880 is 8.8折 in Chinese, 12% off in English.
    Two ways of counting, not two wordings of one sentence, so not a translated string."""
    if (get_language() or "").startswith("zh"):
        return f"{(rate * 10).normalize():f}折"
    return f"{((1 - rate) * 100).normalize():f}% off"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Coupon(models.Model):
    """What a coupon gives and when it may be used."""

    class Type(models.TextChoices):
        THRESHOLD = "threshold", _("spend and save (满减)")
        PERCENT = "percent", _("percent off (折扣券)")
        VOUCHER = "voucher", _("voucher (代金券)")
        FREE_DISH = "free_dish", _("free dish (赠菜券)")

    name = models.CharField(_("name"), max_length=40, help_text=_("满100减20, 8.8折券 …"))
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    off = MoneyField(
        _("money off"), null=True, blank=True, help_text=_("满减 and 代金券: yuan off.")
    )
    rate = models.DecimalField(
        _("rate paid"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("折扣券: the share paid, 0.880 is 8.8折."),
    )
    cap = MoneyField(
        _("at most off"), null=True, blank=True, help_text=_("折扣券: most yuan off; blank: none.")
    )
    minimum = MoneyField(
        _("minimum spend"), default=0, help_text=_("On the dishes it covers; 0: none.")
    )
    dishes = models.ManyToManyField(
        "menu.Dish",
        blank=True,
        related_name="+",
        verbose_name=_("dishes"),
        help_text=_("What it covers (赠菜券: the free dish); none and no categories: all."),
    )
    categories = models.ManyToManyField(
        "menu.Category", blank=True, related_name="+", verbose_name=_("categories")
    )
    combinable = models.BooleanField(_("combines with other coupons"), default=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    weekdays = models.CharField(
        _("weekdays"),
        max_length=7,
        default=WEEKDAYS,
        help_text=_("Days it may be used, 1 (Monday) to 7 (Sunday): 12345 is weekdays."),
    )
    hours_from = models.TimeField(_("from (time of day)"), null=True, blank=True)
    hours_until = models.TimeField(_("until (time of day)"), null=True, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(off__isnull=True) | models.Q(off__gt=0), name="coupon_off_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(rate__isnull=True) | models.Q(rate__gt=0, rate__lt=1),
                name="coupon_rate_between_0_and_1",
            ),
            models.CheckConstraint(condition=models.Q(minimum__gte=0), name="coupon_minimum_ge_0"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """What each type needs (the admin's form shows these on their fields)."""
        errors = {}
        if self.type in (self.Type.THRESHOLD, self.Type.VOUCHER) and self.off is None:
            errors["off"] = _("满减 and 代金券 take money off: say how much.")
        if self.type == self.Type.PERCENT and self.rate is None:
            errors["rate"] = _("A 折扣券 needs the share paid, e.g. 0.880.")
        if self.weekdays and (
            any(day not in WEEKDAYS for day in self.weekdays)
            or len(set(self.weekdays)) != len(self.weekdays)
        ):
            errors["weekdays"] = _("Write the days as digits 1 to 7, each once: 12345.")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            errors["valid_until"] = _("The last day comes after the first.")
        if errors:
            raise ValidationError(errors)

    def rule(self) -> dict[str, Any]:
        """The rule the settlement evaluates (orders/settlement.py, `rule_problem`)."""
        rule: dict[str, Any] = {
            "type": self.type,
            "minimum": money_str(self.minimum),
            "dishes": sorted(self.dishes.values_list("pk", flat=True)),
            "categories": sorted(self.categories.values_list("pk", flat=True)),
            "combinable": self.combinable,
        }
        if self.off is not None:
            rule["off"] = money_str(self.off)
        if self.type == self.Type.PERCENT:
            rule["rate"] = str(self.rate)
            rule["cap"] = money_str(self.cap) if self.cap is not None else None
        return rule

    def terms(self) -> list[str]:
        """What the coupon gives and on what, as a person reads it on a printed card (in the
        active language): the offer first, then each condition."""
        offer = {
            self.Type.THRESHOLD: lambda: (
                gettext("%(off)s off a spend of %(minimum)s")
                % {"off": yuan(self.off or 0), "minimum": yuan(self.minimum)}
            ),
            self.Type.VOUCHER: lambda: gettext("%(off)s voucher") % {"off": yuan(self.off or 0)},
            self.Type.PERCENT: lambda: _rate_words(self.rate or Decimal(1)),
            self.Type.FREE_DISH: lambda: (
                gettext("a free %(dish)s")
                % {"dish": " / ".join(dish.local_name for dish in self.dishes.all())}
            ),
        }[self.Type(self.type)]
        terms = [offer()]
        if self.type == self.Type.PERCENT and self.cap is not None:
            terms.append(gettext("at most %(cap)s off") % {"cap": yuan(self.cap)})
        if self.type != self.Type.THRESHOLD and self.minimum > 0:
            terms.append(
                gettext("on a spend of at least %(minimum)s") % {"minimum": yuan(self.minimum)}
            )
        if self.type != self.Type.FREE_DISH:
            covered = [c.local_name for c in self.categories.all()]
            covered += [d.local_name for d in self.dishes.all()]
            if covered:
                terms.append(gettext("only on %(what)s") % {"what": ", ".join(covered)})
        if self.weekdays and set(self.weekdays) != set(WEEKDAYS):
            days = (
                gettext("Monday to Friday")
                if sorted(self.weekdays) == list("12345")
                else ", ".join(str(WEEKDAY_NAMES[int(day) - 1]) for day in sorted(self.weekdays))
            )
            terms.append(gettext("on %(days)s") % {"days": days})
        if self.hours_from and self.hours_until:
            terms.append(
                gettext("from %(start)s to %(end)s")
                % {
                    "start": self.hours_from.strftime("%H:%M"),
                    "end": self.hours_until.strftime("%H:%M"),
                }
            )
        terms.append(
            gettext("combines with other coupons")
            if self.combinable
            else gettext("not with other coupons")
        )
        return terms

    def validity(self) -> str:
        """Its dates as a card prints them (in the active language)."""
        start, end = self.valid_from, self.valid_until
        if start and end:
            return gettext("valid %(start)s to %(end)s") % {
                "start": start.isoformat(),
                "end": end.isoformat(),
            }
        if end:
            return gettext("valid until %(end)s") % {"end": end.isoformat()}
        if start:
            return gettext("valid from %(start)s") % {"start": start.isoformat()}
        return gettext("no expiry date")

    def unusable_because(self, now: datetime) -> str:
        """Why it may not be used at `now` ("" when it may), in the active language."""
        local = timezone.localtime(now)
        if not self.active:
            return str(_("it is no longer in use"))
        if self.valid_from and local.date() < self.valid_from:
            return str(_("it is valid from %(day)s")) % {"day": self.valid_from.isoformat()}
        if self.valid_until and local.date() > self.valid_until:
            return str(_("it expired on %(day)s")) % {"day": self.valid_until.isoformat()}
        if str(local.isoweekday()) not in self.weekdays:
            return str(_("it is not valid on this day of the week"))
        start, end = self.hours_from, self.hours_until
        now_time = local.time()
        # A window past midnight (22:00 to 02:00) holds from its start or until its end.
        inside = (
            start <= now_time < end
            if start and end and start <= end
            else (start is not None and end is not None and (now_time >= start or now_time < end))
        )
        if start and end and not inside:
            return str(_("it is valid from %(start)s to %(end)s")) % {
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
            }
        return ""


class Batch(models.Model):
    """Single-use codes of one coupon made at once, to print or export (CSV)."""

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="batches", verbose_name=_("coupon")
    )
    quantity = models.PositiveIntegerField(_("how many"))
    note = models.CharField(_("note"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("made by"),
    )
    created_at = models.DateTimeField(_("made at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("batch of codes")
        verbose_name_plural = _("batches of codes")

    def __str__(self) -> str:
        return f"{self.coupon} × {self.quantity}"


class CouponCode(models.Model):
    """One coupon a diner holds: used once. `issued` → `redeemed` (on a bill) → `issued` again
    when it is taken off or the bill comes to nothing (all voided or refunded)."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("not used")
        REDEEMED = "redeemed", _("used")

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="codes", verbose_name=_("coupon")
    )
    code = models.CharField(_("code"), max_length=20, unique=True, default=new_code)
    member = optional_link("members.Member", _("member"), related_name="coupons")
    batch = optional_link(Batch, _("batch"), related_name="codes")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    tab = optional_link("orders.Tab", _("bill"))
    redeemed_at = models.DateTimeField(_("used at"), null=True, blank=True)
    redeemed_by = staff_member(_("used by (staff)"))
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("coupon code")
        verbose_name_plural = _("coupon codes")

    TRANSITIONS: dict[str, set[str]] = {
        Status.ISSUED: {Status.REDEEMED},
        Status.REDEEMED: {Status.ISSUED},
    }
    # What each move records (CouponEvent.kind).
    EVENTS: dict[str, str] = {Status.REDEEMED: "redeemed", Status.ISSUED: "given_back"}

    def __str__(self) -> str:
        return self.code

    def transition(
        self, to: str, *, tab_id: int | None = None, user: Any = None, reason: str = ""
    ) -> None:
        """The one writer of a code's status: redeemed on bill `tab_id`, or given back (issued
        again, off its bill). The move is checked against TRANSITIONS and recorded. The caller
        holds the code's row lock."""
        if to not in self.TRANSITIONS[self.Status(self.status)]:
            raise Refused(
                Code.ILLEGAL_TRANSITION,
                thing=self._meta.verbose_name,
                status=self.get_status_display(),
            )
        on_bill = tab_id if to == self.Status.REDEEMED else self.tab_id
        self.status = to
        if to == self.Status.REDEEMED:
            self.tab_id, self.redeemed_at, self.redeemed_by = tab_id, timezone.now(), user
        else:
            self.tab, self.redeemed_at, self.redeemed_by = None, None, None
        self.save(update_fields=["status", "tab", "redeemed_at", "redeemed_by"])
        CouponEvent.objects.create(
            code=self, kind=self.EVENTS[to], tab_id=on_bill, user=user, reason=reason
        )


class CouponEvent(models.Model):
    """Every move of a code: issued, redeemed, given back; who, when, on which bill, why."""

    code = models.ForeignKey(
        CouponCode, on_delete=models.CASCADE, related_name="events", verbose_name=_("code")
    )
    kind = models.CharField(_("kind"), max_length=20)
    tab_id = models.PositiveBigIntegerField(_("bill"), null=True, blank=True)
    user = staff_member()
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("coupon event")
        verbose_name_plural = _("coupon events")
