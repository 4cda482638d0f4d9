"""The diner pays from the phone: the whole bill, an equal share, their own dishes, or at the
counter; a failed or abandoned payment says so and lets them try again; an e-receipt after."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from orders import services as order_services
from orders.models import Tab
from payments.models import Payment, SandboxCharge
from restaurant.lib.diners import DINER_COOKIE

from .conftest import approve, charge_of, notify, seat

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "Accept-Language": "en"}


def phone_with_key(key):
    client = Client()
    client.cookies[DINER_COOKIE] = key
    return client


def start(phone, table, tab, **fields):
    tab = Tab.objects.get(pk=tab.pk)
    data = {"tab": tab.pk, "version": tab.version, "key": fields.pop("key", "k1"), **fields}
    return phone.post(f"/t/{table.token}/pay/start/", data, headers=HTMX)


def test_the_pay_page_shows_the_bill_and_the_ways_to_pay(client, table, tab):
    page = client.get(f"/t/{table.token}/pay/").content.decode()
    assert "拍黄瓜" in page and "¥50" in page
    assert 'name="choice" value="balance"' in page and 'name="choice" value="share"' in page
    assert f'ws-connect="/ws/t/{table.token}/pay/' in page


def test_paying_the_whole_bill_shows_a_qr_code(client, table, tab):
    answer = start(client, table, tab, choice="balance")
    html = answer.content.decode()
    assert answer.status_code == 200 and "<svg" in html and "/sandbox/pay/" in html
    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.scope) == ("qr", Decimal("50.00"), "balance")


def test_an_equal_share_is_the_total_split_rounded_up_to_the_cent(client, table, menu):
    tab = seat(table, menu, guests=3)  # 50 between 3: 16.67 each
    start(client, table, tab, choice="share", people="3")
    assert Payment.objects.get().amount == Decimal("16.67")
    assert start(client, table, tab, choice="share", people="1", key="k2").status_code == 400


def test_a_phone_pays_only_the_dishes_it_ordered(table, menu):
    tab = order_services.tab_for_table(table=table)
    key = "a" * 32
    diner = order_services.diner_for_tab(tab=tab, key=key)
    tab = seat(table, menu, diner=diner)  # this phone ordered both: 50
    order_services.order_submit(
        tab=tab, key="other", lines=[order_services.LineRequest(dish=menu["cucumber"].pk)]
    )  # another round by nobody in particular: 12
    phone = phone_with_key(key)
    page = phone.get(f"/t/{table.token}/pay/").content.decode()
    assert 'value="mine"' in page and "¥50" in page
    start(phone, table, tab, choice="mine")
    assert Payment.objects.get().amount == Decimal("50.00")


def test_a_stale_page_is_told_and_gets_the_current_bill(client, table, tab, menu):
    old_version = tab.version
    order_services.order_submit(
        tab=Tab.objects.get(pk=tab.pk),
        key="more",
        lines=[order_services.LineRequest(dish=menu["cucumber"].pk)],
    )
    answer = client.post(
        f"/t/{table.token}/pay/start/",
        {"tab": tab.pk, "version": old_version, "key": "k", "choice": "balance"},
        headers=HTMX,
    )
    assert answer.status_code == 409
    html = answer.content.decode()
    assert "¥62" in html and 'id="pay-bill"' in html
    assert not Payment.objects.exists()


def test_a_cancelled_payment_is_closed_at_the_gateway_and_the_phone_may_pay_again(
    client, table, tab
):
    start(client, table, tab, choice="balance")
    payment = Payment.objects.get()
    answer = client.post(
        f"/t/{table.token}/pay/{payment.pk}/cancel/", {"tab": tab.pk}, headers=HTMX
    )
    assert "Nothing was charged" in answer.content.decode()
    payment.refresh_from_db()
    assert (
        payment.status == "cancelled" and charge_of(payment).status == SandboxCharge.Status.CLOSED
    )
    start(client, table, tab, choice="balance", key="k2")
    assert Payment.objects.filter(status="pending").count() == 1


def test_a_double_tap_starts_one_payment(client, table, tab):
    start(client, table, tab, choice="balance", key="same")
    start(client, table, tab, choice="balance", key="same")
    assert Payment.objects.count() == 1 and SandboxCharge.objects.count() == 1


def test_pay_at_the_counter_tells_the_cashier(client, table, tab):
    client.post(f"/t/{table.token}/pay/counter/", {"tab": tab.pk}, headers=HTMX)
    assert Tab.objects.get(pk=tab.pk).bill_requested_at is not None


def test_after_paying_the_phone_gets_an_e_receipt(client, table, tab, commits):
    start(client, table, tab, choice="balance")
    payment = Payment.objects.get()
    with commits():
        notify(client, approve(payment))
    page = client.get(f"/t/{table.token}/pay/").content.decode()
    receipt_url = re.search(r'href="(/receipt/[^"]+/)"', page).group(1)
    receipt = client.get(receipt_url).content.decode()
    assert "拍黄瓜" in receipt and "¥50" in receipt
    assert client.get("/receipt/not-a-reference/").status_code == 404


def test_another_tables_payment_cannot_be_cancelled(client, table, other_table, menu, tab):
    start(client, table, tab, choice="balance")
    other = seat(other_table, menu, key="o")
    payment = Payment.objects.get()
    answer = client.post(
        f"/t/{other_table.token}/pay/{payment.pk}/cancel/", {"tab": other.pk}, headers=HTMX
    )
    assert answer.status_code == 404
    assert Payment.objects.get().status == "pending"


def test_the_sandbox_page_approves_once(client, table, tab):
    start(client, table, tab, choice="balance")
    charge = charge_of(Payment.objects.get())
    assert (
        client.post(f"/sandbox/pay/{charge.pk}/decide/", {"action": "approve"}).status_code == 200
    )
    assert (
        client.post(f"/sandbox/pay/{charge.pk}/decide/", {"action": "approve"}).status_code == 409
    )
    charge.refresh_from_db()
    assert charge.status == "paid"


def test_a_payment_is_named_by_its_gateway_on_every_screen():
    """The phone's paid list, the receipt, the till and the member's top-ups say 微信支付 or
    支付宝 for a gateway's QR payment, not the method's "扫码支付" on one and the name on another."""
    from types import SimpleNamespace

    from django.utils import translation

    from payments.models import Payment
    from payments.templatetags.payments_tags import paid_by

    with translation.override("zh-hans"):
        assert str(paid_by(Payment(method="qr", provider="wechatpay"))) == "微信支付"
        assert str(paid_by(Payment(method="qr", provider="alipay"))) == "支付宝"
        assert str(paid_by(Payment(method="qr", provider="sandbox"))) == "扫码支付"
        assert str(paid_by(Payment(method="cash", provider="cash"))) == "现金"
        assert str(paid_by(SimpleNamespace(provider="alipay"))) == "支付宝"  # a bill's row
    with translation.override("en"):
        assert str(paid_by(Payment(method="qr", provider="wechatpay"))) == "WeChat Pay"
