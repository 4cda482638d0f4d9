"""The reports' roll-up of closed business days (`reports/rollup.py` writes and reads it). Part
of the `payments` app (payments/models.py imports them)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from restaurant.lib.money import MoneyField


class DayRollup(models.Model):
    """A closed business day's bill figures as they were when summed, and the stamp that says
    whether they still are: the number of the day's bills and the sum of their versions (a
    bill's version grows with every change of what it owes: a dish added, voided, discounted).
    A day whose stamp no longer matches its bills is read live until it is summed again."""

    day = models.DateField(_("business day"), primary_key=True)
    bills = models.PositiveIntegerField(_("bills"))
    versions = models.BigIntegerField(_("sum of the bills' versions"))
    # The service charge is not stored on bills: summed at this percent, read only at it.
    percent = models.DecimalField(_("service charge percent"), max_digits=6, decimal_places=2)
    service_charge = MoneyField(_("service charge"))
    summed_at = models.DateTimeField(_("summed"), default=timezone.now)

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
