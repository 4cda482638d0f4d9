"""The business day ends at the cut-off hour (04:00 by default), in Asia/Shanghai, not at
midnight; Shanghai keeps no summer time, so every business day is 24 hours long."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from restaurant.lib.business_day import business_day, day_bounds, period_bounds
from restaurant.settings import env_clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def test_a_late_supper_after_midnight_belongs_to_the_evening_before():
    assert business_day(at(2, 23, 59)) == date(2026, 12, 2)
    assert business_day(at(3, 0, 0)) == date(2026, 12, 2)
    assert business_day(at(3, 3, 59)) == date(2026, 12, 2)


def test_the_cut_off_minute_opens_the_next_day():
    assert business_day(at(3, 4, 0)) == date(2026, 12, 3)
    assert business_day(at(3, 12)) == date(2026, 12, 3)


def test_a_moment_in_utc_is_read_in_shanghai_time():
    # 19:30 UTC on the 2nd is 03:30 on the 3rd in Shanghai: still the 2nd's business day.
    assert business_day(datetime(2026, 12, 2, 19, 30, tzinfo=UTC)) == date(2026, 12, 2)
    # 20:00 UTC is 04:00 in Shanghai: the 3rd begins.
    assert business_day(datetime(2026, 12, 2, 20, 0, tzinfo=UTC)) == date(2026, 12, 3)


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError):
        business_day(datetime(2026, 12, 3, 1, 0))


def test_the_bounds_run_from_cut_off_to_cut_off_and_hold_their_own_moments():
    start, end = day_bounds(date(2026, 12, 2))
    assert start == at(2, 4) and end == at(3, 4)
    assert start.utcoffset() == timedelta(hours=8)
    assert business_day(start) == date(2026, 12, 2)
    assert business_day(end - timedelta(microseconds=1)) == date(2026, 12, 2)
    assert business_day(end) == date(2026, 12, 3)


def test_every_day_of_a_year_is_24_hours_long_in_shanghai():
    day = date(2026, 1, 1)
    while day.year == 2026:
        start, end = day_bounds(day)
        assert end - start == timedelta(hours=24)
        assert start.astimezone(UTC).hour == 20  # 04:00 +08:00, all year
        day += timedelta(days=1)


def test_a_period_runs_from_its_first_days_start_to_its_last_days_end():
    start, end = period_bounds(date(2026, 12, 1), date(2026, 12, 7))
    assert start == at(1, 4) and end == at(8, 4)
    with pytest.raises(ValueError):
        period_bounds(date(2026, 12, 7), date(2026, 12, 1))


@override_settings(BUSINESS_DAY_CUTOFF=time(0, 0))
def test_a_midnight_cut_off_makes_business_days_calendar_days():
    assert business_day(at(3, 0, 0)) == date(2026, 12, 3)
    assert business_day(at(2, 23, 59)) == date(2026, 12, 2)
    assert day_bounds(date(2026, 12, 2)) == (at(2, 0), at(3, 0))


@override_settings(BUSINESS_DAY_CUTOFF=time(5, 30))
def test_the_cut_off_is_a_setting():
    assert business_day(at(3, 5, 29)) == date(2026, 12, 2)
    assert business_day(at(3, 5, 30)) == date(2026, 12, 3)


def test_the_setting_reads_hh_mm(monkeypatch):
    monkeypatch.delenv("BUSINESS_DAY_CUTOFF", raising=False)
    assert env_clock("BUSINESS_DAY_CUTOFF", "04:00") == time(4, 0)
    monkeypatch.setenv("BUSINESS_DAY_CUTOFF", "05:30")
    assert env_clock("BUSINESS_DAY_CUTOFF", "04:00") == time(5, 30)


@pytest.mark.parametrize("value", ["4", "4am", "24:00", "04:60", "04:5", "-1:00", "04:00:00"])
def test_a_bad_cut_off_stops_the_start_and_names_the_setting(monkeypatch, value):
    monkeypatch.setenv("BUSINESS_DAY_CUTOFF", value)
    with pytest.raises(ImproperlyConfigured, match="BUSINESS_DAY_CUTOFF must be a time of day"):
        env_clock("BUSINESS_DAY_CUTOFF", "04:00")
