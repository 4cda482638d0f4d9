"""The cashier's dashboard: who may see it, the floor plan, finding a bill, taking payments,
discounts by role, closing the table, printing receipts."""

import pytest
from django.test import Client

from orders import services as order_services
from orders.models import OrderLine, Tab, Table
from orders.settlement import build_settlement
from payments.models import Payment

from .conftest import seat

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "Accept-Language": "en"}


@pytest.fixture
def counter(cashier):
    client = Client()
    client.force_login(cashier)
    return client


def take(counter, tab, **fields):
    tab = Tab.objects.get(pk=tab.pk)
    data = {"method": "cash", "amount": "", "version": tab.version, "key": "k", **fields}
    return counter.post(f"/cashier/tabs/{tab.pk}/pay/", data, headers=HTMX)


def test_only_cashiers_and_managers_open_the_dashboard(client, cook, manager, counter):
    assert client.get("/cashier/").status_code == 302  # to the login page
    client.force_login(cook)
    assert client.get("/cashier/").status_code == 403
    assert counter.get("/cashier/").status_code == 200
    client.force_login(manager)
    assert client.get("/cashier/").status_code == 200


def test_the_floor_plan_shows_each_tables_state_and_amount(counter, table, other_table, menu):
    Table.objects.create(code="B1")
    tab = seat(table, menu)
    order_services.bill_request(tab_id=tab.pk)
    page = counter.get("/cashier/").content.decode()
    assert f'id="table-{table.pk}" class="tile state-bill"' in page
    assert f'id="table-{other_table.pk}" class="tile state-free"' in page
    assert "¥50" in page


@pytest.mark.parametrize("query", ["a1", "A1", "TOKEN", "http://x/t/TOKEN/"])
def test_a_bill_is_found_by_code_token_or_scanned_url(counter, table, tab, query):
    query = query.replace("TOKEN", table.token)
    answer = counter.get("/cashier/find/", {"q": query}, headers=HTMX)
    assert answer.status_code == 200
    assert f'ws-connect="/ws/cashier/tabs/{tab.pk}/' in answer.content.decode()


def test_finding_a_free_or_unknown_table_says_so(counter, table, other_table):
    assert "is free" in counter.get("/cashier/find/", {"q": "A2"}, headers=HTMX).content.decode()
    answer = counter.get("/cashier/find/", {"q": "Z9"}, headers=HTMX)
    assert answer.status_code == 404 and "No table" in answer.content.decode()


def test_cash_taken_at_the_counter_shows_the_change_and_settles(counter, tab):
    answer = take(counter, tab, amount="100")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Change: ¥50" in html
    assert "¥50" in html
    assert Tab.objects.get(pk=tab.pk).status == "settled"


def test_an_empty_amount_takes_all_that_is_due(counter, tab):
    take(counter, tab, method="card", terminal_ref="T-77")
    payment = Payment.objects.get()
    assert (payment.method, str(payment.amount), payment.terminal_ref) == ("card", "50.00", "T-77")


def test_a_refused_payment_shows_why_and_changes_nothing(counter, tab):
    answer = take(counter, tab, amount="12.345")
    assert answer.status_code == 400 and answer["HX-Retarget"] == "#flash"
    assert not Payment.objects.exists()


def test_a_cashier_discounts_within_the_limit_and_a_manager_beyond(counter, manager, tab):
    over = counter.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "10.01", "reason": "熟客"}, headers=HTMX
    )
    assert over.status_code == 403  # a manager approves on the same screen
    assert Tab.objects.get(pk=tab.pk).discount == 0
    assert (
        counter.post(
            f"/cashier/tabs/{tab.pk}/discount/", {"amount": "10", "reason": "熟客"}, headers=HTMX
        ).status_code
        == 200
    )
    boss = Client()
    boss.force_login(manager)
    boss.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "20", "reason": "老板朋友"}, headers=HTMX
    )
    assert build_settlement(tab.pk)["total"] == "30.00"


def test_a_discount_needs_a_reason(counter, tab):
    line = OrderLine.objects.filter(order__tab=tab).first()
    answer = counter.post(
        f"/cashier/lines/{line.pk}/discount/", {"amount": "2", "reason": ""}, headers=HTMX
    )
    assert answer.status_code == 400
    counter.post(
        f"/cashier/lines/{line.pk}/discount/", {"amount": "2", "reason": "小份"}, headers=HTMX
    )
    settlement = build_settlement(tab.pk)
    assert (settlement["lines"][0]["discount"], settlement["total"]) == ("2.00", "48.00")


def test_the_table_closes_only_when_paid_and_can_get_a_new_token(counter, table, tab):
    refused = counter.post(f"/cashier/tabs/{tab.pk}/close/", {"rotate": "on"}, headers=HTMX)
    assert refused.status_code == 409
    assert Tab.objects.get(pk=tab.pk).status == "open"
    take(counter, tab)
    old_token = table.token
    counter.post(f"/cashier/tabs/{tab.pk}/close/", {"rotate": "on"}, headers=HTMX)
    assert Tab.objects.get(pk=tab.pk).status == "closed"
    table.refresh_from_db()
    assert table.token != old_token
    assert Client().get(f"/t/{old_token}/").status_code == 404


@pytest.mark.parametrize("paper", ["58", "80"])
def test_a_receipt_prints_on_thermal_paper(counter, tab, paper):
    take(counter, tab, amount="100")
    page = counter.get(f"/cashier/tabs/{tab.pk}/receipt/", {"paper": paper}).content.decode()
    assert f'class="receipt-page paper-{paper}"' in page
    assert "拍黄瓜" in page and "¥100" in page and "¥50" in page
