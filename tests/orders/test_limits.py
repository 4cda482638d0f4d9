"""Limits per table and per time, the same for pages and the API; staff see a tab that hits one
(issue 11: one phone made 153 cart rows, 3,000 lines and 100 pending QR payments)."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from orders import services
from orders.models import CartItem, OrderLine, Tab
from payments.models import Payment
from tests.payments.conftest import qr_payment, sandbox_gateway  # noqa: F401
from tests.sockets import connect, session_cookie


def api_order(table, lines, key, tab=None):
    return Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/tables/{table.token}/orders",
        {"key": key, "tab": tab, "guests": 2, "lines": lines},
        content_type="application/json",
    )


def floor_html(cashier):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cashier)
    return client.get("/cashier/").content.decode()


def test_a_cart_stops_at_the_rows_one_order_can_take(table, menu, cashier):
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    tab = services.tab_for_table(table=table)
    answers = [
        phone.post(
            f"/t/{table.token}/cart/",
            {"dish": menu["cucumber"].pk, "note": f"row {n}", "tab": tab.pk},
            HTTP_HX_REQUEST="true",
        )
        for n in range(153)
    ]
    assert [a.status_code for a in answers].count(200) == 100
    assert answers[-1].status_code == 409
    assert "The cart holds at most 100 dishes" in answers[-1].content.decode()
    assert CartItem.objects.filter(tab=tab).count() == 100
    tab.refresh_from_db()
    submitted = phone.post(
        f"/t/{table.token}/submit/", {"tab": tab.pk, "cart_version": tab.cart_version, "guests": 2}
    )
    assert submitted.status_code == 302  # the full cart still goes to the kitchen
    assert OrderLine.objects.filter(order__tab=tab).count() == 100
    assert 'data-limit="cart_full"' in floor_html(cashier)


def test_three_thousand_lines_from_one_client_are_refused(table, menu, settings):
    line = {"dish": menu["cucumber"].pk, "quantity": 99}
    huge = api_order(table, [line] * 100, "k0")
    assert huge.status_code == 400 and huge.json()["error"] == "too_many_portions"
    assert "at most 200 portions" in huge.json()["message"]

    small = [{"dish": menu["cucumber"].pk, "quantity": 1}] * 100
    answers = [api_order(table, small, f"k{n}") for n in range(1, 31)]
    codes = [a.status_code for a in answers]
    assert codes[:3] == [201, 201, 201]
    assert answers[3].json()["error"] == "tab_full"  # 300 dishes on one bill at most
    assert OrderLine.objects.count() == 300


def test_orders_per_minute_are_limited_per_table(table, menu):
    line = [{"dish": menu["cucumber"].pk}]
    codes = [api_order(table, line, f"k{n}").status_code for n in range(8)]
    assert codes == [201] * 6 + [429, 429]
    refused = api_order(table, line, "k9")
    assert refused.json()["error"] == "ordering_too_fast"
    # The page's 下单 takes the same limit.
    tab = Tab.objects.get(table=table)
    phone = Client()
    phone.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk, "tab": tab.pk})
    tab.refresh_from_db()
    answer = phone.post(
        f"/t/{table.token}/submit/", {"tab": tab.pk, "cart_version": tab.cart_version}
    )
    assert answer.status_code == 429
    assert CartItem.objects.filter(tab=tab).count() == 1  # the cart is kept for later


def test_a_hundred_pending_qr_payments_stop_at_a_few(table, menu, sandbox_gateway, cashier):  # noqa: F811
    api_order(table, [{"dish": menu["cucumber"].pk}], "k1")
    tab = Tab.objects.get(table=table)
    refused = 0
    for n in range(100):
        try:
            qr_payment(
                tab, amount="1.00", key=f"phone-{n}"
            )  # ¥3 under way of ¥12: the count stops them
        except Exception as error:
            assert getattr(error, "code", None) == "too_many_payments"
            refused += 1
    assert Payment.objects.filter(tab=tab, status="pending").count() == 3
    assert refused == 97
    assert 'data-limit="too_many_payments"' in floor_html(cashier)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_cashiers_floor_is_told_at_once_when_a_tab_hits_a_limit(
    table, menu, cashier, settings
):
    settings.MAX_ORDER_PORTIONS = 3
    cookie = await sync_to_async(session_cookie)(cashier)
    floor, connected, _ = await connect("/ws/cashier/", cookie)
    assert connected
    await floor.receive_from(timeout=5)
    line = [{"dish": menu["cucumber"].pk, "quantity": 2}]
    first = await sync_to_async(api_order)(table, line, "k1")
    assert first.status_code == 201
    refused = await sync_to_async(api_order)(table, line * 2, "k2", first.json()["tab"])
    assert refused.status_code == 400
    told = ""
    while "data-limit" not in told:
        told = await floor.receive_from(timeout=5)
    assert 'data-limit="too_many_portions"' in told
    await floor.disconnect()


@pytest.mark.usefixtures("sandbox_gateway")
def test_pending_qr_payments_together_never_exceed_what_is_due(table, menu, cashier):
    """A bill of ¥50: ¥30 and ¥20 may be under way at once (two phones splitting it); another
    ¥30 would make ¥60 under way for ¥50 owed and is refused, on the page's API as in the
    service, naming what is under way and what may still start."""
    from tests.payments.conftest import seat

    tab = seat(table, menu)
    qr_payment(tab, amount="30.00", key="phone-a")
    answer = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/tables/{table.token}/payments",
        {"method": "qr", "amount": "30.00", "version": tab.version, "key": "phone-b"},
        content_type="application/json",
    )
    assert answer.status_code == 409, answer.content
    refused = answer.json()
    assert refused["error"] == "payments_over_due"
    assert (refused["under_way"], refused["startable"]) == ("30.00", "20.00")
    assert "¥30 is already being paid" in refused["message"]
    assert "at most ¥20 more" in refused["message"]
    assert not Payment.objects.filter(key="phone-b").exists()
    assert 'data-limit="payments_over_due"' in floor_html(cashier)
    qr_payment(tab, amount="20.00", key="phone-c")  # what is left may start
    assert Payment.objects.filter(tab=tab, status="pending").count() == 2


@pytest.mark.usefixtures("sandbox_gateway")
def test_a_payment_past_its_expiry_no_longer_counts_as_under_way(table, menu):
    from datetime import timedelta

    from django.utils import timezone

    from tests.payments.conftest import seat

    tab = seat(table, menu)
    old = qr_payment(tab, key="walked-away")
    Payment.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert qr_payment(tab, key="next-phone").status == "pending"


@pytest.mark.parametrize(
    ("setting", "code"),
    [("MAX_ORDERS_PER_MINUTE", "ordering_too_fast"), ("MAX_OPEN_LINES", "tab_full")],
)
def test_every_order_limit_flags_the_tab_on_the_cashiers_floor(
    table, menu, cashier, settings, setting, code
):
    """Staff are alerted of a tab that hit a limit: its tile says so in words, as an alert."""
    setattr(settings, setting, 1)
    line = [{"dish": menu["cucumber"].pk}]
    assert api_order(table, line, "k1").status_code == 201
    assert 'data-limit="' not in floor_html(cashier)
    refused = api_order(table, line, "k2")
    assert refused.json()["error"] == code
    floor = floor_html(cashier)
    assert f'role="alert" data-limit="{code}">limit reached<' in floor
