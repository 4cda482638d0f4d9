"""The settlement and payments over API v1: cash with change, card, mixed, stale versions,
idempotency keys and strict amounts."""

import pytest

from orders.models import Tab
from payments.models import LedgerEntry, Payment
from restaurant.lib.devices import DeviceToken

from .conftest import ledger_sum

pytestmark = pytest.mark.django_db

SETTLEMENT_KEYS = {
    "schema", "tab", "version", "table", "currency", "status", "opened_at", "guests", "lines",
    "subtotal", "discount_total", "service_charge", "rounding", "total", "paid", "refunded",
    "balance_due", "payments",
    # issue 9's price rules: the member on the bill, every rule as a row, table charges
    "member", "adjustments", "charges_total",
}  # fmt: skip


def pay(api, tab, method="cash", amount="50.00", key="k1", version=None, **extra):
    body = {"method": method, "amount": amount, "version": version or tab.version, "key": key}
    return api.staff_post(f"/tabs/{tab.pk}/payments", {**body, **extra})


def test_a_diner_reads_the_settlement_in_the_v1_shape(api, table, tab):
    answer = api.get(f"/tables/{table.token}/settlement")
    assert answer.status_code == 200
    settlement = answer.json()
    assert set(settlement) == SETTLEMENT_KEYS
    assert settlement["schema"] == "settlement/v1"
    assert settlement["table"] == {"code": "A1", "name": "大厅 A1"}
    assert [line["name"] for line in settlement["lines"]] == ["拍黄瓜", "宫保鸡丁"]
    assert settlement["lines"][1]["options"] == ["微辣"]
    assert (settlement["total"], settlement["balance_due"], settlement["paid"]) == (
        "50.00",
        "50.00",
        "0.00",
    )


def test_the_staff_settlement_needs_a_cashier_device_token(api, tab):
    assert api.get(f"/tabs/{tab.pk}/settlement").status_code == 401
    _device, kitchen = DeviceToken.issue(name="wall", role="kitchen")
    assert api.get(f"/tabs/{tab.pk}/settlement", kitchen).status_code == 401
    answer = api.staff_get(f"/tabs/{tab.pk}/settlement")
    assert answer.status_code == 200 and answer.json()["tab"] == str(tab.pk)
    assert api.staff_get("/tabs/999999/settlement").status_code == 404


def test_cash_above_the_balance_gives_change_and_books_the_drawer(api, tab, commits):
    with commits():
        answer = pay(api, tab, amount="100")
    assert answer.status_code == 201
    payment = answer.json()["payment"]
    assert (payment["amount"], payment["tendered"], payment["change"]) == (
        "50.00",
        "100.00",
        "50.00",
    )
    settlement = answer.json()["settlement"]
    assert (settlement["paid"], settlement["balance_due"], settlement["status"]) == (
        "50.00",
        "0.00",
        "settled",
    )
    entries = list(LedgerEntry.objects.values_list("account", "kind", "amount"))
    assert [(a, k, str(m)) for a, k, m in entries] == [
        ("cash", "payment", "100.00"),
        ("cash", "change", "-50.00"),
    ]


def test_card_needs_the_terminal_reference_and_never_more_than_is_due(api, tab):
    assert pay(api, tab, method="card", amount="50").json()["error"] == "reference_required"
    over = pay(api, tab, method="card", amount="50.01", reference="T-1")
    assert over.status_code == 400 and over.json()["error"] == "over_balance"
    assert not Payment.objects.exists()
    paid = pay(api, tab, method="card", amount="50", reference="T-1")
    assert paid.status_code == 201 and paid.json()["payment"]["status"] == "succeeded"


def test_mixed_payments_settle_the_tab_and_a_third_is_refused(api, tab):
    card = pay(api, tab, method="card", amount="20", key="a", reference="T-9")
    assert card.json()["settlement"]["balance_due"] == "30.00"
    version = card.json()["settlement"]["version"]
    cash = pay(api, tab, amount="30", key="b", version=version)
    assert cash.status_code == 201
    assert cash.json()["settlement"]["balance_due"] == "0.00"
    assert [p["method"] for p in cash.json()["settlement"]["payments"]] == ["card", "cash"]
    third = pay(api, tab, amount="1", key="c", version=cash.json()["settlement"]["version"])
    assert third.status_code == 409 and third.json()["error"] == "nothing_due"
    assert Payment.objects.count() == 2


def test_a_stale_version_is_refused_with_the_current_settlement(api, tab):
    first = pay(api, tab, method="card", amount="20", key="a", reference="T-1")
    stale = pay(api, tab, amount="30", key="b", version=tab.version)
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_version"
    assert stale.json()["settlement"]["version"] == first.json()["settlement"]["version"]
    assert stale.json()["settlement"]["balance_due"] == "30.00"
    assert Payment.objects.count() == 1


def test_the_same_key_twice_takes_one_payment(api, tab):
    first = pay(api, tab, amount="20", key="double-tap")
    again = pay(api, tab, amount="20", key="double-tap")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["payment"]["id"] == again.json()["payment"]["id"]
    assert Payment.objects.count() == 1 and ledger_sum() == 20


@pytest.mark.parametrize("amount", ["12.345", "-1", "abc", "0", "", "1e3", 12.5, True, None])
def test_amounts_are_parsed_strictly_and_a_bad_one_changes_nothing(api, tab, amount):
    answer = pay(api, tab, amount=amount)
    assert answer.status_code == 400, answer.content
    assert not Payment.objects.exists() and not LedgerEntry.objects.exists()
    assert Tab.objects.get(pk=tab.pk).version == tab.version


def test_a_phone_cannot_take_cash_and_staff_cannot_start_qr_here(api, table, tab):
    body = {"method": "cash", "amount": "50", "version": tab.version, "key": "x"}
    assert api.post(f"/tables/{table.token}/payments", body).status_code == 400
    assert pay(api, tab, method="qr").status_code == 400
    assert not Payment.objects.exists()


def test_payment_endpoints_are_in_the_openapi_document(api):
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/tables/{token}/settlement",
        "/api/v1/tabs/{tab}/settlement",
        "/api/v1/tabs/{tab}/payments",
        "/api/v1/tables/{token}/payments",
        "/api/v1/payments/{payment}/refunds",
        "/api/v1/payments/notify/sandbox",
    ):
        assert path in paths
