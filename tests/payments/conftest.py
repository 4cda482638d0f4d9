"""Fixtures of the payment tests: a seated table with an order, the sandbox gateway, staff API
tokens, and helpers that speak the sandbox's protocol (signed notifications)."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from orders import services as order_services
from payments.models import Payment, SandboxCharge
from payments.providers import sandbox
from restaurant.lib.devices import DeviceToken

SECRET = "test-sandbox-secret"


@pytest.fixture(autouse=True)
def sandbox_gateway(settings):
    """The sandbox gateway on, with a known secret; tests deliver its notifications themselves
    (the browser test lets it POST over HTTP)."""
    settings.SANDBOX_GATEWAY = True
    settings.SANDBOX_GATEWAY_SECRET = SECRET
    settings.SANDBOX_DELIVERY = "off"
    settings.SERVICE_FLOW = "pay_later"
    settings.SERVICE_CHARGE_PERCENT = "0"
    settings.BILL_ROUNDING = "none"
    settings.CASHIER_DISCOUNT_LIMIT_PERCENT = 20


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Run what services queue for after the commit (refunds, pushes), as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def seat(table, menu, *, key="first", guests=2, diner=None):
    """An order of 拍黄瓜 (12) and 宫保鸡丁 微辣 (38): the tab owes 50."""
    tab = order_services.tab_for_table(table=table)
    order, _ = order_services.order_submit(
        tab=tab,
        key=key,
        guests=guests,
        diner=diner,
        lines=[
            order_services.LineRequest(dish=menu["cucumber"].pk),
            order_services.LineRequest(dish=menu["chicken"].pk, options=[menu["mild"].pk]),
        ],
    )
    tab.refresh_from_db()
    return tab


@pytest.fixture
def tab(table, menu):
    return seat(table, menu)


@pytest.fixture
def cashier_token(db):
    _device, raw = DeviceToken.issue(name="counter", role="cashier")
    return raw


@pytest.fixture
def api(cashier_token):
    """A JSON client; `api.staff(...)` sends the cashier device's bearer token."""

    class Api:
        def __init__(self):
            self.client = Client()

        def get(self, path, token=None):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return self.client.get("/api/v1" + path, headers=headers)

        def post(self, path, body, token=None):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            data = body if isinstance(body, bytes | str) else json.dumps(body)
            return self.client.post(
                "/api/v1" + path, data, content_type="application/json", headers=headers
            )

        def staff_get(self, path):
            return self.get(path, cashier_token)

        def staff_post(self, path, body):
            return self.post(path, body, cashier_token)

    return Api()


def notify(client, charge, *, secret=SECRET, timestamp=None, body=None, headers=None):
    """POST the sandbox's notification of `charge` to our notify endpoint, signed."""
    body = sandbox.notification_body(charge) if body is None else body
    signed = sandbox.signed_headers(body, secret=secret, timestamp=timestamp)
    if headers is not None:
        signed = headers
    return client.post(
        "/api/v1/payments/notify/sandbox",
        body,
        content_type="application/json",
        headers=signed,
    )


def charge_of(payment):
    return SandboxCharge.objects.get(out_trade_no=payment.reference)


def approve(payment):
    return sandbox.gateway_decide(charge_of(payment).pk, approve=True)


def ledger_sum(**filters):
    from payments.models import LedgerEntry

    return sum((e.amount for e in LedgerEntry.objects.filter(**filters)), start=Decimal(0))


def qr_payment(tab, amount="50.00", key="phone-1", version=None):
    from payments import services

    payment, _created = services.payment_start(
        tab_id=tab.pk,
        method="qr",
        amount=Decimal(amount),
        version=tab.version if version is None else version,
        key=key,
    )
    return Payment.objects.get(pk=payment.pk)


def lapse(payment):
    """The payment runs past its expiry (the worker has not closed it yet): it is no longer
    under way, so another phone may start the whole bill, and its charge is still open at the
    gateway (which gives a charge a minute more than we wait), so both can still be paid."""
    from datetime import timedelta

    from django.utils import timezone

    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return payment


@pytest.fixture(scope="session")
def wechatpay_sim(tmp_path_factory):
    """The WeChat Pay simulator (simulators/wechatpay.py), one process for the session."""
    from tests.simulators import WeChatPaySim

    sim = WeChatPaySim(tmp_path_factory.mktemp("wechatpay-sim"))
    yield sim
    sim.stop()


@pytest.fixture
def sim(settings, wechatpay_sim):
    """WeChat Pay configured against the simulator exactly as from the environment (with a
    1 s time-out), the simulator's controls back to the tests' defaults (no delivery)."""
    from payments.gateway_settings import wechatpay_from_env

    wechatpay_sim.reset()
    env = {**wechatpay_sim.env, "WECHATPAY_TIMEOUT": "1"}
    settings.WECHATPAY = wechatpay_from_env(env, public_url=settings.PUBLIC_URL)
    return wechatpay_sim


@pytest.fixture(scope="session")
def alipay_sim(tmp_path_factory):
    """The Alipay simulator (simulators/alipay.py), one process for the session."""
    from tests.simulators import AlipaySim

    sim = AlipaySim(tmp_path_factory.mktemp("alipay-sim"))
    yield sim
    sim.stop()


@pytest.fixture
def alisim(settings, alipay_sim):
    """Alipay configured against the simulator exactly as from the environment (1 s time-out)."""
    from payments.gateway_settings import alipay_from_env

    alipay_sim.reset()
    env = {**alipay_sim.env, "ALIPAY_TIMEOUT": "1"}
    settings.ALIPAY = alipay_from_env(env, public_url=settings.PUBLIC_URL)
    return alipay_sim


# The browser fixtures (a real daphne, Chromium), for test_browser_pay.py.
from tests.browser.conftest import browser, phone, server, staff_screen  # noqa: E402, F401
