"""The roll-up of closed business days: each closed day's dishes summed once (`DishDay`), so that
a month's or a year's report sums a few hundred day rows instead of every dish of the period.

- **Written at the day close** (`books.services.day_close`, in its transaction) for the day
  closed, and for every earlier closed day whose bills changed since it was summed; never by a
  read (a GET writes nothing). `manage.py report_rollup` sums the closed days that have none (a
  restaurant that closed days before the roll-up existed).
- **Checked on every read**: a day's roll-up counts only while its stamp (the number of its
  bills and the sum of their versions, `DayRollup`) matches its bills now, and the service
  charge percent is the one it was summed at. A bill of a closed day changed later (a dish
  voided or returned, 加菜 after paying: the books post the money to the open day, but the bill
  still counts on its own day, as the live figures show it) grows its version, so that day is
  read live until the next close sums it again. Today and days not closed are always live.
- What it keeps is the dishes (by dish and the name ordered under) and the service charge;
  bills, guests and bill discounts are read from the bills (one row per bill, not per dish),
  categories are looked up now (a renamed category shows under its new name, as live), and the
  price rules (member prices, coupons, points) are priced by the settlement as before.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from orders import figures as bills

from ..books.models import BusinessDay, TabDay
from .models import DayRollup, DishDay

FIELDS = ("dish_id", "name", "sold", "takings", "gross", "discounts", "void_lines",
          "void_quantity", "void_amount")  # fmt: skip


def _percent() -> Decimal:
    return Decimal(settings.SERVICE_CHARGE_PERCENT)


def _stamps(first: date, last: date) -> dict[date, tuple[int, int]]:
    """{day: (bills, Σ versions)} of the bills now, one grouped read of the bills (not dishes)."""
    return {
        row["day"]: (row["n"], row["v"])
        for row in TabDay.objects.filter(day__gte=first, day__lte=last)
        .values("day")
        .annotate(n=Count("tab_id"), v=Coalesce(Sum("tab__version"), 0))
    }


def rollup_write(*, day: date) -> DayRollup:
    """Sum one closed day's dishes and service charge, replacing what was kept. The stamp is
    read first: a bill changing while this sums it leaves a stamp older than the rows, so the
    day reads live (never a wrong figure) until it is summed again."""
    bills_now, versions = _stamps(day, day).get(day, (0, 0))
    tabs = TabDay.objects.filter(day=day).values("tab_id")
    groups = bills.dish_groups(tabs)
    with transaction.atomic():
        DishDay.objects.filter(day=day).delete()
        DishDay.objects.bulk_create(DishDay(day=day, **{f: g[f] for f in FIELDS}) for g in groups)
        rollup, _ = DayRollup.objects.update_or_create(
            day=day,
            defaults={
                "bills": bills_now,
                "versions": versions,
                "percent": _percent(),
                "service_charge": bills.service_charge(tabs),
            },
        )
    return rollup


def rollup_refresh() -> list[date]:
    """Sum every closed day that has no roll-up or whose bills changed since: the days summed."""
    closed = list(BusinessDay.objects.order_by("day").values_list("day", flat=True))
    if not closed:
        return []
    good, _ = _fresh(closed[0], closed[-1])
    stale = [day for day in closed if day not in good]
    for day in stale:
        rollup_write(day=day)
    return stale


def _fresh(first: date, last: date) -> tuple[dict[date, Decimal], list[date]]:
    """({day: its service charge} of the days in `first`–`last` whose roll-up still holds, the
    other days that have bills)."""
    kept = DayRollup.objects.filter(day__gte=first, day__lte=last, percent=_percent())
    stamps = _stamps(first, last)
    fresh = {
        rollup.day: rollup.service_charge
        for rollup in kept
        if stamps.get(rollup.day, (0, 0)) == (rollup.bills, rollup.versions)
    }
    return fresh, sorted(day for day in stamps if day not in fresh)


def period_groups(first: date, last: date) -> tuple[list[dict[str, Any]], Decimal, list[date]]:
    """The `dish_groups` of the bills of `first`–`last`, not merged (`orders.figures` merges
    them): the kept days' rows and the other days' live; the kept days' service charge; and the
    days read live (whose service charge the caller sums live)."""
    fresh, live_days = _fresh(first, last)
    kept = list(
        DishDay.objects.filter(day__in=list(fresh))
        .values("dish_id", "name")
        .annotate(**{f: Sum(f) for f in FIELDS[2:]})
        .order_by()
    )
    live = (
        bills.dish_groups(TabDay.objects.filter(day__in=live_days).values("tab_id"))
        if live_days
        else []
    )
    return kept + live, sum(fresh.values(), Decimal(0)), live_days


def day_takings(first: date, last: date) -> tuple[dict[date, Decimal], list[date]]:
    """({day: dish sales} of the kept days of `first`–`last`, the days to read live)."""
    fresh, live_days = _fresh(first, last)
    kept = dict(
        DishDay.objects.filter(day__in=list(fresh))
        .values("day")
        .annotate(total=Sum("takings"))
        .values_list("day", "total")
    )
    return {day: kept.get(day, Decimal(0)) for day in fresh}, live_days
