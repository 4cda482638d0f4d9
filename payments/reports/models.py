"""The reports' roll-up of closed business days (`reports/rollup.py` writes and reads it). Part
of the `payments` app (payments/models.py imports them).

One `DayRollup` per summed day holds its bill figures and whether they still hold (`stale`);
beside it, one row per dish, hour, table, staff member and payment method of that day. All of a
day's rows are written together, by the worker, once the day is closed and over."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from restaurant.lib.money import MoneyField


class DayRollup(models.Model):
    """A closed, finished business day's bill figures as they were when summed. `stale` is set,
    in the same transaction, by any change that touches the day (a dish voided or discounted on
    one of its bills, a bill closed, a payment completing in its hours): the day is then read
    live until the worker sums it again."""

    day = models.DateField(_("business day"), primary_key=True)
    stale = models.BooleanField(_("stale"), default=False)
    summed_at = models.DateTimeField(_("summed"), default=timezone.now)
    # The service charge is not stored on bills: summed at this percent, read only at it.
    percent = models.DecimalField(_("service charge percent"), max_digits=6, decimal_places=2)
    bills = models.PositiveIntegerField(_("bills"))
    guests = models.PositiveIntegerField(_("guests"))
    open_bills = models.PositiveIntegerField(_("bills not closed"))
    # The day's dishes (its DishDay rows) summed, for the headline figures.
    takings = MoneyField(_("dish sales"))
    gross = MoneyField(_("gross"))
    line_discounts = MoneyField(_("dish discounts"))
    voided_lines = models.PositiveIntegerField(_("voided lines"))
    voided_quantity = models.PositiveIntegerField(_("voided quantity"))
    voided_amount = MoneyField(_("voided amount"))
    bill_discounts = MoneyField(_("bill discounts"))
    service_charge = MoneyField(_("service charge"))  # before the price rules' correction
    # The price rules, as the settlements price them (orders.figures.price_rule_totals).
    member_prices = MoneyField(_("member prices"))
    coupons = MoneyField(_("coupons"))
    points = MoneyField(_("points"))
    table_charges = MoneyField(_("table charges"))
    service_correction = MoneyField(_("service charge correction"))

    class Meta:
        verbose_name = _("day's report roll-up")
        verbose_name_plural = _("days' report roll-ups")


class DishDay(models.Model):
    """One dish (by the name it was ordered under) on one closed business day's bills."""

    day = models.DateField(_("business day"), db_index=True)
    dish = models.ForeignKey(
        "menu.Dish", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("dish")
    )
    name = models.CharField(_("name"), max_length=60)
    sold = models.IntegerField(_("quantity sold"))
    takings = MoneyField(_("amount"))  # after the dish's own discount
    gross = MoneyField(_("gross"))  # at its price × quantity, voided ones left out
    discounts = MoneyField(_("discounts"))
    void_lines = models.IntegerField(_("voided lines"))
    void_quantity = models.IntegerField(_("voided quantity"))
    void_amount = MoneyField(_("voided amount"))

    class Meta:
        verbose_name = _("dish's day")
        verbose_name_plural = _("dishes' days")


class HourDay(models.Model):
    """The dishes ordered in one hour of one closed business day (voided ones left out)."""

    day = models.DateField(_("business day"), db_index=True)
    hour = models.PositiveSmallIntegerField(_("hour"))
    orders = models.IntegerField(_("orders"))
    quantity = models.IntegerField(_("portions"))
    amount = MoneyField(_("amount"))

    class Meta:
        verbose_name = _("hour's day")
        verbose_name_plural = _("hours' days")


class TableDay(models.Model):
    """One table's bills on one closed business day; the table's code, name and area are read
    when the report is (as live)."""

    day = models.DateField(_("business day"), db_index=True)
    table = models.ForeignKey(
        "orders.Table", on_delete=models.CASCADE, related_name="+", verbose_name=_("table")
    )
    bills = models.IntegerField(_("bills"))
    guests = models.IntegerField(_("guests"))
    amount = MoneyField(_("dish sales"))
    seated = models.DurationField(_("time seated, summed"))  # of the bills closed
    seated_bills = models.IntegerField(_("bills closed"))

    class Meta:
        verbose_name = _("table's day")
        verbose_name_plural = _("tables' days")


class StaffDay(models.Model):
    """What one staff member did in the hours of one closed business day."""

    day = models.DateField(_("business day"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    orders = models.IntegerField(_("orders taken"))
    voids = models.IntegerField(_("voids"))
    voided_amount = MoneyField(_("voided amount"))
    discounts = models.IntegerField(_("discounts"))
    refunds = models.IntegerField(_("refunds"))
    refunded = MoneyField(_("refunded"))

    class Meta:
        verbose_name = _("staff member's day")
        verbose_name_plural = _("staff members' days")


class MethodDay(models.Model):
    """The payments and refunds of one method and gateway that succeeded in the hours of one
    closed business day."""

    day = models.DateField(_("business day"), db_index=True)
    method = models.CharField(_("method"), max_length=10)
    provider = models.CharField(_("provider"), max_length=20)
    payments = models.IntegerField(_("payments"))
    amount = MoneyField(_("paid"))
    refunds = models.IntegerField(_("refunds"))
    refunded = MoneyField(_("refunded"))

    class Meta:
        verbose_name = _("payment method's day")
        verbose_name_plural = _("payment methods' days")


class MonthRollup(models.Model):
    """A month whose every day was summed (a fresh `DayRollup` each), its dishes and payment
    methods summed from those days' rows. Valid while every day of the month is still fresh and
    none was summed after the month was (`summed_at`): nothing marks a month stale, it is
    checked when read (reports/rollup.py)."""

    month = models.DateField(_("month"), primary_key=True)  # its 1st
    summed_at = models.DateTimeField(_("summed"), default=timezone.now)
    percent = models.DecimalField(_("service charge percent"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("month's report roll-up")
        verbose_name_plural = _("months' report roll-ups")


class DishMonth(models.Model):
    """One dish (by the name it was ordered under) on one summed month's bills."""

    month = models.DateField(_("month"), db_index=True)
    dish = models.ForeignKey(
        "menu.Dish", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("dish")
    )
    name = models.CharField(_("name"), max_length=60)
    sold = models.IntegerField(_("quantity sold"))
    takings = MoneyField(_("amount"))
    gross = MoneyField(_("gross"))
    discounts = MoneyField(_("discounts"))
    void_lines = models.IntegerField(_("voided lines"))
    void_quantity = models.IntegerField(_("voided quantity"))
    void_amount = MoneyField(_("voided amount"))

    class Meta:
        verbose_name = _("dish's month")
        verbose_name_plural = _("dishes' months")


class MethodMonth(models.Model):
    """The payments and refunds of one method and gateway in one summed month's days."""

    month = models.DateField(_("month"), db_index=True)
    method = models.CharField(_("method"), max_length=10)
    provider = models.CharField(_("provider"), max_length=20)
    payments = models.IntegerField(_("payments"))
    amount = MoneyField(_("paid"))
    refunds = models.IntegerField(_("refunds"))
    refunded = MoneyField(_("refunded"))

    class Meta:
        verbose_name = _("payment method's month")
        verbose_name_plural = _("payment methods' months")
