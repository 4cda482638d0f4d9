"""WeChat Pay inside WeChat (JSAPI): the silent snsapi_base OAuth for the payer's openid, the
prepay and the signed getBrandWCPayRequest parameters, against the simulator over real HTTP."""

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from payments.models import Payment
from payments.providers.base import StartContext

from .test_wechatpay import IPHONE, NOTIFY

pytestmark = pytest.mark.django_db

IN_WECHAT = IPHONE + " MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN"


def start(tab, key="wx-1"):
    from payments import services

    payment, _created = services.payment_start(
        tab_id=tab.pk, method="qr", amount=Decimal("50"), version=tab.version, key=key,
        gateway="wechatpay",
        context=StartContext(user_agent=IN_WECHAT, token=tab.table.token),
    )  # fmt: skip
    return Payment.objects.get(pk=payment.pk)


def local(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def through_oauth(client, payment):
    """Our page → WeChat's OAuth (the simulator) → back with a code: the JSAPI page."""
    first = client.get(local(payment.code_url))
    assert first.status_code == 302
    authorize = first["Location"]
    assert "/connect/oauth2/authorize?" in authorize and "scope=snsapi_base" in authorize
    wechat = requests.get(authorize, allow_redirects=False, timeout=10)
    assert wechat.status_code == 302
    back = wechat.headers["Location"]
    assert "code=" in back and "state=" in back
    return client.get(local(back))


def test_inside_wechat_the_payer_gets_the_jsapi_sheet_and_pays(sim, client, tab, commits):
    payment = start(tab)
    assert payment.code_url.endswith(f"/t/{tab.table.token}/pay/wechat/{payment.reference}/")
    page = through_oauth(client, payment)
    assert page.status_code == 200
    html = page.content.decode()
    params = json.loads(html.split('id="jsapi-params" type="application/json">')[1].split("<")[0])
    assert params["appId"] == sim.env["WECHATPAY_APPID"] and params["signType"] == "RSA"
    assert params["package"].startswith("prepay_id=wx")
    order = sim.order(payment.reference)
    assert order["trade_type"] == "JSAPI" and order["total"] == 5000

    # WeixinJSBridge (the simulator's stand-in) checks the paySign with our merchant key.
    forged = requests.post(f"{sim.url}/jsbridge/pay", json.dumps({**params, "paySign": "AAAA"}))
    assert forged.json()["err_msg"] == "get_brand_wcpay_request:fail"
    paid = requests.post(f"{sim.url}/jsbridge/pay", json.dumps(params), timeout=10)
    assert paid.json()["err_msg"] == "get_brand_wcpay_request:ok"
    headers, body = sim.notification(payment.reference)
    with commits():
        answer = client.post(NOTIFY, body, content_type="application/json", headers=headers)
    assert answer.status_code == 204
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert sim.order(payment.reference)["openid"]


def test_the_openid_is_kept_for_the_next_payment_and_a_forged_state_is_not_taken(sim, client, tab):
    payment = start(tab)
    through_oauth(client, payment)
    again = client.get(local(payment.code_url))  # the session knows the openid now
    assert again.status_code == 200 and b"jsapi-params" in again.content
    stranger = type(client)()
    first = stranger.get(local(payment.code_url))
    state = parse_qs(urlsplit(first["Location"]).query)["state"][0]
    forged = stranger.get(local(payment.code_url) + "?code=stolen&state=not-" + state)
    assert forged.status_code == 302 and "/connect/oauth2/authorize?" in forged["Location"]


def test_without_the_app_secret_a_phone_in_wechat_gets_h5(sim, settings, tab):
    settings.WECHATPAY = {**settings.WECHATPAY, "app_secret": ""}
    payment = start(tab)
    assert sim.order(payment.reference)["trade_type"] == "H5"
