"""The business day (营业日): a restaurant's day ends at a cut-off hour, not at midnight.

A bill paid at 01:30 after a late supper belongs to the evening before; the day's books (shifts,
the day close, the Z report, the reports, reconciliation) all cut at `BUSINESS_DAY_CUTOFF`
(default 04:00, local time in `TIME_ZONE`, Asia/Shanghai). A business day `d` runs from `d` at
the cut-off to `d + 1` at the cut-off: `[start, end)`.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def cutoff() -> time:
    """The cut-off hour from the settings (a `datetime.time`, checked when settings load)."""
    value: time = settings.BUSINESS_DAY_CUTOFF
    return value


def business_day(moment: datetime) -> date:
    """The business day an aware moment belongs to: before the cut-off, the calendar day before."""
    if timezone.is_naive(moment):
        raise ValueError("business_day needs an aware datetime")
    local = moment.astimezone(timezone.get_default_timezone())
    day = local.date()
    return day - timedelta(days=1) if local.time() < cutoff() else day


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """`[start, end)` of business day `day` as aware datetimes in the local time zone."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, cutoff(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), cutoff(), tzinfo=zone)
    return start, end


def period_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """`[start, end)` of the business days `first` to `last`, both included."""
    if last < first:
        raise ValueError("a period ends on or after its first day")
    return day_bounds(first)[0], day_bounds(last)[1]


def today() -> date:
    """The business day now."""
    return business_day(timezone.now())
