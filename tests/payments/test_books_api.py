"""The books in the staff API (v1): shifts, cash in and out, the handover and its slip, the day's
status, the day close, the Z report and the closed days; on the same services as the pages,
with their refusals, their roles and idempotency keys (payments/books/api.py)."""

import html
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from orders.models import Tab
from payments import services
from payments.books import reports
from payments.books import services as books
from payments.books.models import BusinessDay, CashMovement, Shift
from payments.books.selectors import open_day
from restaurant.lib.audit import AuditEntry
from restaurant.lib.devices import DeviceToken
from restaurant.lib.errors import Code, Refused

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


class Caller:
    """A JSON client of /api/v1: a staff member's session, or a device's bearer token."""

    def __init__(self, user=None, token=None):
        self.client = Client(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            self.client.force_login(user)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get("/api/v1" + path, params, headers=self.headers)

    def post(self, path, body):
        return self.client.post(
            "/api/v1" + path,
            body if isinstance(body, str) else json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


def device(role):
    return Caller(token=DeviceToken.issue(name=f"{role} device", role=role)[1])


def refused_as(answer, code, **params):
    """The answer is the refusal `code`, with its status and its message (in English)."""
    with translation.override("en"):
        message = Refused(code, **params).message
    assert (answer.status_code, answer.json()) == (
        code.status,
        {"error": code.value, "message": message},
    ), answer.content


def pay_cash(tab, amount, key, user):
    version = Tab.objects.get(pk=tab.pk).version
    return services.payment_start(
        tab_id=tab.pk, method="cash", amount=Decimal(amount), version=version, key=key, user=user
    )[0]


@pytest.fixture
def till(cashier):
    return Caller(cashier)


@pytest.fixture
def boss(manager):
    return Caller(manager)


def open_shift(caller, till="前台", float_="200", key="open-1"):
    return caller.post("/shifts", {"till": till, "float": float_, "key": key})


# Opening a shift ------------------------------------------------------------------------------


def test_a_cashier_opens_a_shift_and_the_same_key_again_opens_nothing(till, cashier):
    first = open_shift(till)
    assert first.status_code == 201
    body = first.json()
    assert (body["till"], body["cashier"], body["float"], body["open"]) == (
        "前台",
        "cashier",
        "200.00",
        True,
    )
    assert body["figures"]["cash_expected"] == "200.00" and body["handover"] is None
    assert [m["account"] for m in body["figures"]["methods"]] == ["cash", "card", "qr"]

    again = open_shift(till)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Shift.objects.count() == 1
    # Another key while the shift is open: the page's refusal.
    refused_as(open_shift(till, till="吧台", key="open-2"), Code.SHIFT_OPEN, till="前台")


def test_no_float_takes_over_what_the_last_cashier_left_in_the_drawer(till, boss, cashier):
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    refused_as(open_shift(boss, till="1", key="m"), Code.TILL_BUSY, cashier="cashier", till="1")
    books.shift_hand_over(user=cashier, shift_id=shift.pk, counted=Decimal("100"),
                          left_in_drawer=Decimal("60"))  # fmt: skip
    current = boss.get("/shifts/current", till="1").json()
    assert (current["shift"], current["float_default"]) == (None, "60.00")
    opened = boss.post("/shifts", {"till": "1", "key": "m"})
    assert opened.status_code == 201 and opened.json()["float"] == "60.00"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"till": " ", "float": "10"}, Code.BAD_TILL),
        ({"till": "x" * 31, "float": "10"}, Code.BAD_TILL),
        ({"till": "1", "float": "12.345"}, Code.BAD_AMOUNT),
        ({"till": "1", "float": "-1"}, Code.BAD_AMOUNT),
        ({"till": "1", "float": 12.5}, Code.BAD_AMOUNT),
        ({"till": "1", "float": "10", "key": " "}, Code.BAD_KEY),
    ],
)
def test_a_bad_opening_is_refused_and_opens_nothing(till, body, code):
    refused_as(till.post("/shifts", {"key": "k", **body}), code)
    assert not Shift.objects.exists()


def test_a_body_without_a_key_is_invalid(till):
    answer = till.post("/shifts", {"till": "1", "float": "10"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid"
    assert "key" in answer.json()["message"]
    assert not Shift.objects.exists()


# Who may: people hold shifts and close days, devices read ---------------------------------------


def test_a_device_token_cannot_hold_a_shift_or_close_a_day(cashier, manager):
    pos, boss_tablet = device("cashier"), device("manager")
    refused_as(open_shift(pos), Code.PERSON_REQUIRED)
    cash = {"direction": "in", "amount": "10", "reason": "零钱", "key": "c"}
    refused_as(pos.post("/shifts/current/cash", cash), Code.PERSON_REQUIRED)
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("0"))
    refused_as(
        pos.post(f"/shifts/{shift.pk}/handover", {"counted": "0", "key": "h"}),
        Code.PERSON_REQUIRED,
    )
    refused_as(boss_tablet.post(f"/days/{open_day()}/close", {"key": "d"}), Code.PERSON_REQUIRED)
    assert Shift.objects.count() == 1 and not CashMovement.objects.exists()
    assert Shift.objects.get().is_open and not BusinessDay.objects.exists()


def test_a_device_reads_the_shift_of_the_till_it_stands_at(cashier):
    books.shift_open(user=cashier, till="前台", float_amount=Decimal("50"))
    pos = device("cashier")
    refused_as(pos.get("/shifts/current"), Code.BAD_TILL)
    current = pos.get("/shifts/current", till="前台").json()
    assert current["shift"]["cashier"] == "cashier"
    assert current["shift"]["figures"]["cash_expected"] == "50.00"
    assert pos.get("/shifts/current", till="吧台").json()["shift"] is None


def test_a_cashier_reads_their_own_open_shift_and_a_manager_any(till, boss, cashier, roles):
    from tests.conftest import _staff

    other = _staff("cashier2", roles["cashier"])
    theirs = books.shift_open(user=other, till="吧台", float_amount=Decimal("0"))
    assert till.get("/shifts/current").json()["shift"] is None
    refused_as(till.get("/shifts/current", till="吧台"), Code.FORBIDDEN)
    refused_as(till.get(f"/shifts/{theirs.pk}"), Code.FORBIDDEN)
    assert boss.get(f"/shifts/{theirs.pk}").json()["cashier"] == "cashier2"
    assert boss.get("/shifts/current", till="吧台").json()["shift"]["id"] == theirs.pk
    # Handed over, its figures are on the slip both cashiers sign: any cashier reads it.
    books.shift_hand_over(user=other, shift_id=theirs.pk, counted=Decimal("0"))
    assert till.get(f"/shifts/{theirs.pk}").status_code == 200
    assert till.get(f"/shifts/{theirs.pk}/slip").status_code == 200


def test_a_kitchen_device_or_a_stranger_is_not_let_in(cook):
    refused_as(device("kitchen").get("/shifts/current", till="1"), Code.UNAUTHORIZED)
    refused_as(Caller(cook).post("/shifts", {"till": "1", "key": "k"}), Code.UNAUTHORIZED)
    refused_as(Caller().get(f"/days/{open_day()}/z"), Code.UNAUTHORIZED)


def test_the_days_endpoints_are_the_managers(till):
    pos = device("cashier")
    for caller in (till, pos):
        refused_as(caller.get("/days/open"), Code.MANAGER_ONLY)
        refused_as(caller.get(f"/days/{open_day()}/z"), Code.MANAGER_ONLY)
        refused_as(caller.get("/days"), Code.MANAGER_ONLY)
        refused_as(caller.get("/shifts"), Code.MANAGER_ONLY)
        refused_as(caller.post(f"/days/{open_day()}/close", {"key": "d"}), Code.MANAGER_ONLY)
    assert not BusinessDay.objects.exists()
    assert device("manager").get("/days/open").status_code == 200


def test_a_session_post_without_the_csrf_token_is_refused(cashier):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cashier)
    answer = browser.post(
        "/api/v1/shifts", {"till": "1", "key": "k"}, content_type="application/json"
    )
    assert answer.status_code == 403 and answer.json()["error"] == "csrf_failed"
    assert not Shift.objects.exists()


# Cash in and out ------------------------------------------------------------------------------


def test_cash_paid_in_and_out_moves_the_expected_cash_and_a_replay_records_nothing(till):
    refused_as(
        till.post("/shifts/current/cash", {"direction": "in", "amount": "5", "reason": "x",
                                           "key": "c0"}),
        Code.NO_SHIFT,
    )  # fmt: skip
    open_shift(till)
    paid_out = {"direction": "out", "amount": "45.5", "reason": "买菜", "key": "c1"}
    first = till.post("/shifts/current/cash", paid_out)
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("direction", "amount", "reason", "by")} == {
        "direction": "out",
        "amount": "45.50",
        "reason": "买菜",
        "by": "cashier",
    }
    again = till.post("/shifts/current/cash", paid_out)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    till.post("/shifts/current/cash", {"direction": "in", "amount": 100, "reason": "换零钱",
                                       "key": "c2"})  # fmt: skip
    assert CashMovement.objects.count() == 2
    figures = till.get("/shifts/current").json()["shift"]["figures"]
    assert (figures["paid_in"], figures["paid_out"], figures["cash_expected"]) == (
        "100.00",
        "45.50",
        "254.50",
    )
    assert AuditEntry.objects.filter(kind="cash").count() == 2


@pytest.mark.parametrize(
    "body, code, params",
    [
        ({"direction": "out", "amount": "20", "reason": " "}, Code.REASON_REQUIRED, {}),
        ({"direction": "out", "amount": "20", "reason": "x" * 201}, Code.REASON_REQUIRED, {}),
        ({"direction": "out", "amount": "0", "reason": "x"}, Code.BAD_AMOUNT, {}),
        ({"direction": "out", "amount": "1.234", "reason": "x"}, Code.BAD_AMOUNT, {}),
        ({"direction": "sideways", "amount": "1", "reason": "x"}, Code.INVALID,
         {"problems": "direction"}),
    ],
)  # fmt: skip
def test_a_bad_cash_movement_is_refused_and_records_nothing(till, body, code, params):
    open_shift(till)
    refused_as(till.post("/shifts/current/cash", {**body, "key": "c"}), code, **params)
    assert not CashMovement.objects.exists()


# The handover ----------------------------------------------------------------------------------


def test_a_handover_by_note_keeps_the_expected_figures_and_a_replay_changes_nothing(
    till, cashier, tab, commits
):
    shift_id = open_shift(till).json()["id"]
    with commits():
        pay_cash(tab, "100", "cash-1", cashier)  # 50 owed: 100 in, 50 change out
    till.post("/shifts/current/cash", {"direction": "out", "amount": "20", "reason": "买冰块",
                                       "key": "c1"})  # fmt: skip
    # 200 float + 100 − 50 − 20 = 230 expected; counted 100 + 100 + 20 + 5 + 3 × 1 = 228.
    count = {"denominations": {"100": 2, "20": 1, "5": 1, "1": 3, "0.5": 0}, "key": "h1"}
    refused_as(
        till.post(f"/shifts/{shift_id}/handover", count),
        Code.DIFFERENCE_NEEDS_REASON,
        difference="−¥2",
    )
    assert Shift.objects.get().is_open
    done = till.post(
        f"/shifts/{shift_id}/handover", {**count, "reason": "找零找错", "left_in_drawer": "200"}
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["open"] is False
    assert body["figures"]["cash_expected"] == "230.00"
    cash = body["figures"]["methods"][0]
    assert (cash["received"], cash["change"], cash["net"]) == ("100.00", "-50.00", "50.00")
    assert body["handover"] == {
        **body["handover"],
        "counted": "228.00",
        "denominations": {"100": 2, "20": 1, "5": 1, "1": 3},
        "difference": "-2.00",
        "reason": "找零找错",
        "left_in_drawer": "200.00",
        "taken_out": "28.00",
    }
    again = till.post(
        f"/shifts/{shift_id}/handover", {**count, "reason": "找零找错", "left_in_drawer": "200"}
    )
    assert again.status_code == 200 and again.json() == body
    assert AuditEntry.objects.filter(kind="shift").count() == 1
    refused_as(
        till.post(f"/shifts/{shift_id}/handover", {"counted": "228", "key": "h2"}),
        Code.SHIFT_HANDED_OVER,
    )


def test_only_its_cashier_or_a_manager_hands_a_shift_over(till, boss, roles, cashier):
    from tests.conftest import _staff

    other = Caller(_staff("cashier2", roles["cashier"]))
    shift_id = open_shift(till, float_="0").json()["id"]
    refused_as(
        other.post(f"/shifts/{shift_id}/handover", {"counted": "0", "key": "h"}),
        Code.NOT_YOUR_SHIFT,
    )
    refused_as(boss.post("/shifts/999999/handover", {"counted": "0", "key": "h"}), Code.NOT_FOUND)
    assert (
        boss.post(f"/shifts/{shift_id}/handover", {"counted": "0", "key": "h"}).status_code == 200
    )
    assert not Shift.objects.get().is_open


@pytest.mark.parametrize(
    "body, code, params",
    [
        ({}, Code.BAD_COUNT, {}),
        ({"denominations": {"200": 1}}, Code.BAD_COUNT, {}),
        ({"denominations": {"100": -1}}, Code.BAD_COUNT, {}),
        ({"denominations": {"100": "1"}}, Code.BAD_COUNT, {}),
        ({"denominations": {"100": True}}, Code.BAD_COUNT, {}),
        ({"denominations": {"100": 1}, "counted": "99"}, Code.BAD_COUNT, {}),
        ({"counted": "1.001"}, Code.BAD_AMOUNT, {}),
        ({"counted": "100", "left_in_drawer": "101"}, Code.BAD_LEFT, {"counted": "¥100"}),
    ],
)
def test_a_bad_count_is_refused_and_the_shift_stays_open(till, body, code, params):
    shift_id = open_shift(till, float_="100").json()["id"]
    refused_as(till.post(f"/shifts/{shift_id}/handover", {**body, "key": "h"}), code, **params)
    assert Shift.objects.get().is_open


def test_the_slip_is_the_handovers_figures_as_printed(till):
    shift_id = open_shift(till, float_="100").json()["id"]
    refused_as(till.get(f"/shifts/{shift_id}/slip"), Code.NOT_FOUND)
    till.post("/shifts/current/cash", {"direction": "in", "amount": "50", "reason": "换零钱",
                                       "key": "c"})  # fmt: skip
    till.post(f"/shifts/{shift_id}/handover",
              {"denominations": {"0.1": 10, "100": 1, "50": 1}, "reason": "多收一元",
               "key": "h"})  # fmt: skip
    slip = till.get(f"/shifts/{shift_id}/slip").json()
    assert [(d["face"], d["count"], d["amount"]) for d in slip["denominations"]] == [
        ("100", 1, "100.00"),
        ("50", 1, "50.00"),
        ("0.1", 10, "1.00"),
    ]
    assert (slip["float"], slip["paid_in"], slip["cash_expected"], slip["counted"]) == (
        "100.00",
        "50.00",
        "150.00",
        "151.00",
    )
    assert (slip["difference"], slip["left_in_drawer"], slip["taken_out"]) == (
        "1.00",
        "151.00",
        "0.00",
    )
    assert [m["reason"] for m in slip["movements"]] == ["换零钱"]
    refused_as(till.get("/shifts/999999/slip"), Code.NOT_FOUND)


def test_a_handover_through_the_api_is_on_the_cashiers_page_and_its_slip(till):
    shift_id = open_shift(till, float_="100").json()["id"]
    till.post(f"/shifts/{shift_id}/handover",
              {"counted": "98.5", "reason": "硬币少了", "key": "h"})  # fmt: skip
    page = till.client.get("/cashier/shift/").content.decode()
    assert 'id="handed-over"' in page and 'id="counted">¥98.50<' in page
    assert "硬币少了" in page and "−¥1.50" in page
    slip = till.client.get(f"/cashier/shift/{shift_id}/slip/?paper=58").content.decode()
    assert "硬币少了" in slip and "¥98.50" in slip


def test_the_shifts_of_a_day_in_the_order_they_opened(boss, cashier, manager):
    first = books.shift_open(user=cashier, till="1", float_amount=Decimal("10"))
    books.shift_hand_over(user=cashier, shift_id=first.pk, counted=Decimal("10"))
    second = books.shift_open(user=manager, till="1")
    listed = boss.get("/shifts").json()
    assert [(s["id"], s["open"], s["float"]) for s in listed] == [
        (first.pk, False, "10.00"),
        (second.pk, True, "10.00"),
    ]
    assert boss.get("/shifts", day=str(open_day() - timedelta(days=1))).json() == []
    refused_as(boss.get("/shifts", day="yesterday"), Code.INVALID, problems="day")


# The day ---------------------------------------------------------------------------------------


def test_the_days_status_names_what_stands_in_the_way(boss, cashier, tab):
    shift = books.shift_open(user=cashier, till="前台", float_amount=Decimal("0"))
    status = boss.get("/days/open").json()
    day = str(open_day())
    assert (status["day"], status["open_day"], status["closed"]) == (day, day, False)
    assert [(s["id"], s["till"], s["cashier"]) for s in status["shifts_open"]] == [
        (shift.pk, "前台", "cashier")
    ]
    assert [(t["tab"], t["table"]) for t in status["tables_open"]] == [(tab.pk, "A1")]
    assert (status["closable"], status["needs_carry_reason"]) == (False, True)
    books.shift_hand_over(user=cashier, shift_id=shift.pk, counted=Decimal("0"))
    assert boss.get("/days/open").json()["shifts_open"] == []
    refused_as(boss.get("/days/open", day="2026-13-01"), Code.INVALID, problems="day")


def test_closing_the_day_is_refused_alike_and_a_replay_answers_the_day_closed(
    boss, cashier, manager, tab
):
    day = str(open_day())
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("0"))
    refused_as(boss.post(f"/days/{day}/close", {"key": "d1"}), Code.SHIFTS_STILL_OPEN, tills="1")
    books.shift_hand_over(user=cashier, shift_id=shift.pk, counted=Decimal("0"))
    refused_as(
        boss.post(f"/days/{day}/close", {"key": "d1"}),
        Code.DAY_HAS_OPEN_BILLS,
        tables=1,
        payments=0,
    )
    assert not BusinessDay.objects.exists()

    closed = boss.post(f"/days/{day}/close", {"carry_reason": "客人还在", "key": "d1"})
    assert closed.status_code == 201, closed.content
    body = closed.json()
    assert (body["day"], body["closed_by"], body["carry_reason"]) == (day, "manager", "客人还在")
    assert body["carried_over"] == [{"tab": tab.pk, "table": "A1", "status": "open"}]
    again = boss.post(f"/days/{day}/close", {"carry_reason": "客人还在", "key": "d1"})
    assert again.status_code == 200 and again.json() == body
    assert BusinessDay.objects.count() == 1
    assert AuditEntry.objects.filter(kind="day_close").count() == 1
    refused_as(boss.post(f"/days/{day}/close", {"key": "d2"}), Code.DAY_CLOSED, day=day)
    later = str(open_day() + timedelta(days=2))
    refused_as(boss.post(f"/days/{later}/close", {"key": "d3"}), Code.DAY_NOT_OVER, day=later)
    refused_as(boss.post("/days/today/close", {"key": "d4"}), Code.INVALID, problems="day")

    listed = boss.get("/days").json()
    assert listed == [body]
    assert boss.get("/days", before=day).json() == []
    status = boss.get("/days/open", day=day).json()
    assert status["closed"] is True


def test_the_z_report_is_the_pages_figures_with_amounts_as_strings(boss, cashier, tab, commits):
    books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    with commits():
        pay_cash(tab, "60", "cash-1", cashier)  # 50 owed, 10 change
    day = str(open_day())
    live = boss.get(f"/days/{day}/z").json()
    page = reports.z_report(open_day())
    assert live["closed"] is False and live["closed_by"] is None
    for name in ("bills", "guests", "per_guest", "turns", "takings", "refunds", "over_short",
                 "paid_in", "paid_out", "voids", "categories", "methods", "member"):  # fmt: skip
        assert live[name] == page[name], name
    assert live["sales"] == page["sales"]
    assert (live["sales"]["total"], live["takings"], live["bills"]) == ("50.00", "50.00", 1)
    assert live["methods"][0] == {
        "account": "cash",
        "received": "60.00",
        "change": "-10.00",
        "refunded": "0.00",
        "net": "50.00",
    }
    assert live["shifts"][0]["cashier"] == "cashier" and live["shifts"][0]["counted"] is None
    z_page = boss.client.get(f"/manager/day/{day}/z/").content.decode()
    assert 'id="z-sales">¥50<' in z_page and 'id="z-takings">¥50<' in z_page

    shift = Shift.objects.get()
    books.shift_hand_over(user=cashier, shift_id=shift.pk, counted=Decimal("150"))
    boss.post(f"/days/{day}/close", {"key": "d"})
    kept = boss.get(f"/days/{day}/z").json()
    assert kept["closed"] is True and kept["closed_by"] == "manager"
    assert kept["shifts"][0]["counted"] == "150.00" and kept["shifts"][0]["difference"] == "0.00"
    assert kept["sales"] == live["sales"]
    refused_as(boss.get("/days/2026-02-30/z"), Code.INVALID, problems="day")


def test_the_z_report_shows_the_days_reconciliation_on_the_page_and_in_the_api(
    boss, menu, cashier, manager
):
    from payments.reports.reconcile import day_result
    from tests.payments.report_day import DAY, make_day

    make_day(menu, cashier, manager)
    z = boss.get(f"/days/{DAY}/z").json()
    # Paid through WeChat Pay, no gateway's bill in yet: the page and the API say so.
    assert z["reconciliation"] == day_result(DAY)
    assert z["reconciliation"]["missing_bills"] == ["wechatpay", "alipay"]
    page = boss.client.get(f"/manager/day/{DAY}/z/").content.decode()
    assert 'id="z-reconciliation"' in page
    # A day paid only in cash and by card has nothing to reconcile.
    quiet = DAY - timedelta(days=10)
    assert boss.get(f"/days/{quiet}/z").json()["reconciliation"] is None
    assert (
        'id="z-reconciliation"' not in boss.client.get(f"/manager/day/{quiet}/z/").content.decode()
    )


def test_the_books_reads_write_nothing(boss, cashier, manager, tab, commits):
    from tests.writes import statements

    handed = books.shift_open(user=manager, till="2", float_amount=Decimal("0"))
    books.shift_hand_over(user=manager, shift_id=handed.pk, counted=Decimal("0"))
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("10"))
    with commits():
        pay_cash(tab, "50", "cash-1", cashier)
    day = str(open_day())
    reads = [("/shifts/current", {"till": "1"}), (f"/shifts/{shift.pk}", {}),
             (f"/shifts/{handed.pk}/slip", {}), ("/shifts", {}), ("/days/open", {}),
             (f"/days/{day}/z", {}), ("/days", {})]  # fmt: skip
    for path, params in reads:
        with statements() as sent:
            answer = boss.get(path, **params)
        assert answer.status_code == 200 and sent.writes() == [], path


def test_the_openapi_document_describes_the_books(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/shifts", "/api/v1/shifts/current", "/api/v1/shifts/current/cash",
                 "/api/v1/shifts/{shift}/handover", "/api/v1/shifts/{shift}/slip",
                 "/api/v1/days/open", "/api/v1/days/{day}/close", "/api/v1/days/{day}/z",
                 "/api/v1/days"):  # fmt: skip
        assert path in paths, path
    assert set(paths["/api/v1/days/{day}/close"]["post"]["responses"]) >= {
        "200", "201", "403", "409"
    }  # fmt: skip
    assert "person_required" in paths["/api/v1/shifts"]["post"]["description"]
    opening = schema["components"]["schemas"]["ShiftOpenIn"]
    assert set(opening["properties"]) == {"till", "float", "key"}
    assert opening["required"] == ["till", "key"]


# The page and the API refuse the same mistake the same way ------------------------------------

PAGE_CASH = "/cashier/shift/cash/"


def _both(user, page_path, form, api_path, body):
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(user)
    on_page = page.post(page_path, form, headers=HTMX)
    in_api = Caller(user).post(api_path, body)
    return on_page, in_api


def _alike(on_page, in_api, code, **params):
    with translation.override("en"):
        message = Refused(code, **params).message
    assert on_page.status_code == in_api.status_code == code.status
    assert in_api.json() == {"error": code.value, "message": message}
    assert message in html.unescape(on_page.content.decode())


@pytest.mark.parametrize(
    "form, code, params",
    [
        ({"direction": "out", "amount": "20", "reason": ""}, Code.REASON_REQUIRED, {}),
        ({"direction": "out", "amount": "20.001", "reason": "x"}, Code.BAD_AMOUNT, {}),
        ({"direction": "out", "amount": "0", "reason": "x"}, Code.BAD_AMOUNT, {}),
        ({"direction": "out", "amount": "５", "reason": "x"}, Code.BAD_AMOUNT, {}),
        ({"direction": "up", "amount": "1", "reason": "x"}, Code.INVALID,
         {"problems": "direction"}),
    ],
)  # fmt: skip
def test_the_page_and_the_api_refuse_a_cash_mistake_alike(cashier, form, code, params):
    books.shift_open(user=cashier, till="1", float_amount=Decimal("0"))
    on_page, in_api = _both(cashier, PAGE_CASH, form, "/shifts/current/cash", {**form, "key": "c"})
    _alike(on_page, in_api, code, **params)
    assert not CashMovement.objects.exists()


def test_the_page_and_the_api_refuse_cash_without_a_shift_alike(cashier):
    form = {"direction": "in", "amount": "1", "reason": "x"}
    on_page, in_api = _both(cashier, PAGE_CASH, form, "/shifts/current/cash", {**form, "key": "c"})
    _alike(on_page, in_api, Code.NO_SHIFT)


@pytest.mark.parametrize(
    "form, code",
    [
        ({"till": "", "float": "1"}, Code.BAD_TILL),
        ({"till": "1", "float": "1.999"}, Code.BAD_AMOUNT),
    ],
)
def test_the_page_and_the_api_refuse_an_opening_alike(cashier, form, code):
    on_page, in_api = _both(cashier, "/cashier/shift/open/", form, "/shifts", {**form, "key": "o"})
    _alike(on_page, in_api, code)
    assert not Shift.objects.exists()


@pytest.mark.parametrize(
    "form, body, code, params",
    [
        ({}, {}, Code.BAD_COUNT, {}),
        ({"n100": "x"}, {"denominations": {"100": "x"}}, Code.BAD_COUNT, {}),
        ({"n100": "1", "counted": "99"}, {"denominations": {"100": 1}, "counted": "99"},
         Code.BAD_COUNT, {}),
        ({"counted": "99"}, {"counted": "99"}, Code.DIFFERENCE_NEEDS_REASON,
         {"difference": "−¥1"}),
        ({"counted": "100", "left": "100.5"}, {"counted": "100", "left_in_drawer": "100.5"},
         Code.BAD_LEFT, {"counted": "¥100"}),
    ],
)  # fmt: skip
def test_the_page_and_the_api_refuse_a_handover_alike(cashier, form, body, code, params):
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    on_page, in_api = _both(
        cashier,
        f"/cashier/shift/{shift.pk}/hand-over/",
        form,
        f"/shifts/{shift.pk}/handover",
        {**body, "key": "h"},
    )
    _alike(on_page, in_api, code, **params)
    assert Shift.objects.get().is_open


def test_the_page_and_the_api_refuse_closing_a_day_with_an_open_table_alike(manager, tab):
    day = str(open_day())
    on_page, in_api = _both(
        manager, "/manager/day/close/", {"day": day}, f"/days/{day}/close", {"key": "d"}
    )
    _alike(on_page, in_api, Code.DAY_HAS_OPEN_BILLS, tables=1, payments=0)
    assert not BusinessDay.objects.exists()


def test_a_cashier_is_refused_the_day_on_the_page_and_in_the_api(cashier):
    day = str(open_day())
    on_page, in_api = _both(
        cashier, "/manager/day/close/", {"day": day}, f"/days/{day}/close", {"key": "d"}
    )
    assert on_page.status_code == in_api.status_code == 403
    assert in_api.json()["error"] == "manager_only"
    assert not BusinessDay.objects.exists()


def test_a_payment_under_way_is_named_and_carried_over_with_the_reason(boss, tab):
    from .conftest import qr_payment

    payment = qr_payment(tab, amount="50.00")
    day = str(open_day())
    pending = boss.get("/days/open").json()["payments_pending"]
    assert pending == [{"payment": payment.pk, "tab": tab.pk, "amount": "50.00", "method": "qr"}]
    refused_as(
        boss.post(f"/days/{day}/close", {"key": "d"}),
        Code.DAY_HAS_OPEN_BILLS,
        tables=1,
        payments=1,
    )
    closed = boss.post(f"/days/{day}/close", {"carry_reason": "扫码还没付完", "key": "d"}).json()
    assert {"payment": payment.pk, "tab": tab.pk, "amount": "50.00", "method": "qr"} in (
        closed["carried_over"]
    )
    z = boss.get(f"/days/{day}/z").json()
    assert (z["carry_reason"], len(z["carried_over"])) == ("扫码还没付完", 2)
    assert AuditEntry.objects.filter(kind="carry_over").count() == 2


def test_closed_days_come_newest_first_a_page_at_a_time(boss, manager):
    from payments.books.models import BusinessDay as Day

    today = open_day()
    for back in (3, 2, 1):
        Day.objects.create(day=today - timedelta(days=back), closed_by=manager,
                           report=reports.z_report_live(today - timedelta(days=back)))  # fmt: skip
    days = [d["day"] for d in boss.get("/days", limit=2).json()]
    assert days == [str(today - timedelta(days=1)), str(today - timedelta(days=2))]
    older = boss.get("/days", before=days[-1], limit=2).json()
    assert [d["day"] for d in older] == [str(today - timedelta(days=3))]
    assert boss.get("/days", limit=0).json()["error"] == "invalid"
