"""A day named in an address or a query (the books API, the day close, the Z report page, the
audit trail, the reports) is read at the edge by `restaurant.lib.parse.day`: 2026-12-01 and
nothing else, from 2000 to 2999. Python's own reader took 9999-12-31, and every screen that
then computed the day after (or the week before 0001-01-07) answered 500."""

import json
from datetime import date

import pytest
from django.test import Client

from payments.books.models import BusinessDay
from restaurant.lib import parse
from restaurant.lib.audit import AuditEntry

pytestmark = pytest.mark.django_db

FAR = ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01"]
LOOSE = ["20261201", "2026-W48-1", "2026-12-01T00:00", "2026-02-30", "２０２６-12-01", "", "-"]


@pytest.mark.parametrize("text", [*FAR, *LOOSE])
def test_only_a_plain_day_of_our_books_is_read(text):
    assert parse.day(text) is None


def test_a_plain_day_is_read_with_spaces_around():
    assert parse.day(" 2026-12-01 ") == date(2026, 12, 1)
    assert parse.day("2000-01-01") == date(2000, 1, 1)
    assert parse.day("2999-12-31") == date(2999, 12, 31)


@pytest.fixture
def boss(manager):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    return client


@pytest.mark.parametrize("day", [*FAR, "20261201"])
@pytest.mark.parametrize(
    "path", ["/days/{}/z", "/days/open?day={}", "/shifts?day={}", "/days?before={}"]
)
def test_the_books_api_refuses_a_day_out_of_its_books(boss, day, path):
    answer = boss.get("/api/v1" + path.format(day))
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"] == "invalid"


@pytest.mark.parametrize("day", FAR)
def test_closing_a_day_out_of_the_books_is_refused_and_closes_nothing(boss, day):
    answer = boss.post(
        f"/api/v1/days/{day}/close", json.dumps({"key": "k"}), content_type="application/json"
    )
    page = boss.post("/manager/day/close/", {"day": day, "key": "k2"})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid")
    assert page.status_code == 400
    assert not BusinessDay.objects.exists()
    assert not AuditEntry.objects.filter(kind="day_close").exists()


@pytest.mark.parametrize("day", FAR)
def test_the_z_report_page_of_a_day_out_of_the_books_is_not_found(boss, day):
    assert boss.get(f"/manager/day/{day}/z/").status_code == 404


@pytest.mark.parametrize("query", ["from=9999-12-31", "to=9999-12-31", "from=0001-01-01"])
def test_the_audit_trail_leaves_a_day_out_of_the_books_unfiltered(boss, query):
    answer = boss.get(f"/manager/audit/?{query}")
    assert answer.status_code == 200
    assert answer.context["filters"]["first"] is None
    assert answer.context["filters"]["last"] is None


@pytest.mark.parametrize(
    "query",
    ["to=0001-01-03", "from=9999-12-30&to=9999-12-31", "to=9999-12-31", "from=1999-12-31"],
)
def test_a_report_of_days_out_of_the_books_is_a_bad_period(boss, query):
    answer = boss.get(f"/manager/reports/sales/?{query}")
    assert answer.status_code == 400
    assert "366" in answer.content.decode()
