"""The books' stream: `books`, one event whenever money moves or a shift or day changes. The
cashier's shift screen and the manager's day screen follow it and re-render their figures."""

from django.template.loader import render_to_string

from restaurant.lib.realtime import publish_on_commit

from . import selectors

BOOKS = "books"


def push_books() -> None:
    publish_on_commit(BOOKS, kind="books")


def render_shift(user_id: int) -> str:
    return render_to_string(
        "payments/books/shift.html#figures", {**selectors.shift_view(user_id), "oob": True}
    )


def render_day() -> str:
    return render_to_string("payments/books/day.html#live", {**selectors.day_view(), "oob": True})
