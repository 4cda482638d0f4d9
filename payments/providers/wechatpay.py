"""WeChat Pay API v3 (直连商户), through the kept SDK `wechatpayv3`.

The SDK signs every request (`Authorization: WECHATPAY2-SHA256-RSA2048 …` with the merchant
key), verifies every answer's signature with the WeChat Pay public key (微信支付公钥 and its id),
and verifies and decrypts notifications (RSA-SHA256 over "timestamp\\nnonce\\nbody\\n", the
`resource` AEAD_AES_256_GCM under the APIv3 key). What it does not do we do here, and say why
(payments/README.md, "WeChat Pay"):

- the gateway's address: the SDK has no parameter for it, so `_core._gate_way` is set to
  `WECHATPAY_BASE_URL` (the real gateway by default; the simulator in tests and the demo);
- the serial of a notification is checked against our public key id *before* the SDK sees it:
  for any other serial the SDK would download platform certificates from the gateway inside
  the notify request (and `int(serial, 16)` raises on one that is not hex);
- a notification's timestamp must be within 5 minutes (the SDK does not check freshness);
- the decrypted resource's `mchid` and `appid` must be ours.

Every call here is network I/O: services call them with no transaction open and no row locked.
A call that times out or gets a 5xx raises `GatewayUnknown`: the outcome is unknown and is
settled later by the query API or the notification, whichever comes first.
"""

import gzip
import hashlib
import json
import logging
import re
import secrets
import time
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .. import conf
from ..models import Method
from .base import (
    GatewayUnknown,
    Notification,
    NotifyRefused,
    PaymentState,
    RefundNotice,
    RefundResult,
    refund_number,
)

logger = logging.getLogger("payments.wechatpay")

HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
SERIAL = re.compile(r"[0-9A-Fa-f]{1,40}")
PHONE_MARKERS = ("Mobile", "Android", "iPhone", "iPad", "HarmonyOS")


def cents(amount):
    return int((amount * 100).to_integral_value())


def in_wechat(user_agent):
    return "MicroMessenger" in (user_agent or "")


def is_phone(user_agent):
    return any(marker in (user_agent or "") for marker in PHONE_MARKERS)


@lru_cache(maxsize=4)
def _client(mchid, appid, private_key, cert_serial, apiv3_key, public_key, public_key_id,
            cert_dir, base_url, notify_url, timeout):  # fmt: skip
    # Imported here, as the SDK (and requests) is needed only by processes that use it.
    from wechatpayv3 import WeChatPay, WeChatPayType

    client = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=mchid,
        private_key=private_key,
        cert_serial_no=cert_serial,
        appid=appid,
        apiv3_key=apiv3_key,
        notify_url=notify_url,
        cert_dir=cert_dir,
        public_key=public_key,
        public_key_id=public_key_id,
        timeout=(min(timeout, 5), timeout),
        logger=logger,
    )
    client._core._gate_way = base_url  # the SDK has no parameter for the gateway's address
    if cert_dir and not client._core._certificates:
        # Both modes at once: with a public key the SDK loads no certificate by itself.
        client._core._certificates.extend(certificates_on_disk(cert_dir))
    return client


# Platform certificates (the older mode) ---------------------------------------------------

CERTIFICATES_PATH = "/v3/certificates"
# An unknown serial on a notification makes us download the certificates again, at most this
# often per process: a forger sending made-up serials cannot make us call the gateway at will.
REFRESH_EVERY = 60.0
_refreshed_at: dict[str, float] = {}


def _valid_now(certificate):
    now = timezone.now()
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def certificates_on_disk(folder):
    """The still valid platform certificates in `folder` (one `<serial>.pem` each)."""
    from cryptography import x509

    found = []
    for path in sorted(Path(folder).glob("*.pem")):
        try:
            certificate = x509.load_pem_x509_certificate(path.read_bytes())
        except ValueError:
            continue
        if _valid_now(certificate):
            found.append(certificate)
    return found


def certificates_fetch(config):
    """Download the platform certificates (GET /v3/certificates, signed by us), decrypt each
    (AEAD_AES_256_GCM under the APIv3 key: the tag proves it came from WeChat Pay), check the
    answer's own signature with the certificate it names, and keep every valid one in the
    folder as `<serial>.pem`. Returns their serials (upper-case hex).

    Not through the SDK's client: in this mode the SDK downloads them while it is made, from
    the real gateway's address (it has no parameter for another), and without checking the
    answer's signature. The SDK's own helpers sign, decrypt and verify here."""
    import requests
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from wechatpayv3.utils import aes_decrypt, build_authorization, load_private_key, rsa_verify

    authorization = build_authorization(
        CERTIFICATES_PATH, "GET", config["mchid"], config["cert_serial"],
        load_private_key(config["private_key"]),
    )  # fmt: skip
    try:
        answer = requests.get(
            config["base_url"] + CERTIFICATES_PATH,
            headers={"Authorization": authorization, "Accept": "application/json"},
            timeout=(min(config["timeout"], 5), config["timeout"]),
        )
    except requests.RequestException as error:
        raise GatewayUnknown(f"certificates: {error.__class__.__name__}") from error
    if answer.status_code != 200:
        raise GatewayUnknown(f"certificates: the gateway answered {answer.status_code}")
    certificates = {}
    for item in _json(answer.text).get("data") or []:
        sealed = item.get("encrypt_certificate") or {}
        if sealed.get("algorithm") != "AEAD_AES_256_GCM":
            continue
        pem = aes_decrypt(
            nonce=sealed.get("nonce", ""),
            ciphertext=sealed.get("ciphertext", ""),
            associated_data=sealed.get("associated_data", ""),
            apiv3_key=config["apiv3_key"],
        )
        if pem is None:
            logger.warning("wechatpay: a platform certificate did not decrypt (APIv3 key?)")
            continue
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            continue
        serial = format(certificate.serial_number, "X")
        if serial != str(item.get("serial_no", "")).upper().lstrip("0") or not _valid_now(
            certificate
        ):
            continue
        certificates[serial] = certificate
    headers = answer.headers
    signer = certificates.get(headers.get("Wechatpay-Serial", "").upper().lstrip("0"))
    if signer is None or not rsa_verify(
        headers.get("Wechatpay-Timestamp", ""), headers.get("Wechatpay-Nonce", ""),
        answer.text, headers.get("Wechatpay-Signature", ""), signer.public_key(),
    ):  # fmt: skip
        raise GatewayUnknown("certificates: the answer is not signed by a certificate it holds")
    folder = Path(config["cert_dir"])
    for serial, certificate in certificates.items():
        target = folder / f"{serial}.pem"
        if not target.exists():
            partial = folder / f".{serial}.pem.{secrets.token_hex(4)}"
            partial.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
            partial.replace(target)
    logger.info("wechatpay: platform certificates %s", ", ".join(sorted(certificates)))
    return sorted(certificates)


def _json(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class WeChatPayProvider:
    name = "wechatpay"
    method = Method.QR
    immediate = False

    def __init__(self, config=None):
        self.config = config or settings.WECHATPAY

    @property
    def client(self):
        """The SDK's client. In certificate mode the folder must hold a valid certificate
        first (downloaded here when it holds none); GatewayUnknown when that fails."""
        c = self.config
        folder = c.get("cert_dir")
        if folder and not c["public_key"] and not certificates_on_disk(folder):
            certificates_fetch(c)
        try:
            return _client(
                c["mchid"], c["appid"], c["private_key"], c["cert_serial"], c["apiv3_key"],
                c["public_key"], c["public_key_id"], folder, c["base_url"], c["notify_url"],
                c["timeout"],
            )  # fmt: skip
        except Exception as error:  # the SDK raises bare Exception without a certificate
            raise GatewayUnknown(f"client: {error}") from error

    def knows_serial(self, serial):
        """Is `serial` our public key id or one of the platform certificates we hold?"""
        if self.config["public_key_id"] and serial == self.config["public_key_id"]:
            return True
        if not self.config.get("cert_dir") or not SERIAL.fullmatch(serial):
            return False
        number = int(serial, 16)
        return any(c.serial_number == number for c in self.client._core._certificates)

    def refresh_certificates(self):
        """Download the platform certificates again (at most every REFRESH_EVERY seconds in
        this process) and make a new client that holds them. True when it did."""
        folder = self.config.get("cert_dir")
        now = time.monotonic()
        if not folder or now - _refreshed_at.get(folder, -REFRESH_EVERY) < REFRESH_EVERY:
            return False
        _refreshed_at[folder] = now
        certificates_fetch(self.config)
        _client.cache_clear()
        return True

    def _call(self, what, function, *args, **kwargs):
        """One SDK call; a network failure, a time-out, a 5xx, or an answer the SDK could not
        verify (its bare `Exception("failed to verify the signature")`, or a `ValueError` for a
        serial that is not hex) is GatewayUnknown: an answer we cannot believe is no answer."""
        import requests

        try:
            status, text = function(*args, **kwargs)
        except requests.RequestException as error:
            raise GatewayUnknown(f"{what}: {error.__class__.__name__}") from error
        except Exception as error:
            if type(error) is not Exception and not isinstance(error, ValueError):
                raise  # our own mistake, not the gateway's answer
            raise GatewayUnknown(f"{what}: {error}") from error
        if status >= 500 or status == 429:
            raise GatewayUnknown(f"{what}: the gateway answered {status}")
        return status, _json(text)

    # Payments -----------------------------------------------------------------------------

    def start(self, payment, *, context=None):
        """Native (a code_url for a QR code) on a desktop, H5 (an h5_url page) on a phone."""
        from wechatpayv3 import WeChatPayType

        user_agent = getattr(context, "user_agent", "")
        if in_wechat(user_agent) and self.config.get("app_secret"):
            # Inside WeChat: JSAPI. Our own page gets the payer's openid (snsapi_base OAuth),
            # makes the prepay and calls WeixinJSBridge (views.wechat_jsapi).
            path = reverse("payments:wechat-jsapi", args=[context.token, payment.reference])
            return settings.PUBLIC_URL + path
        phone = is_phone(user_agent)
        expires = timezone.localtime(payment.expires_at + timedelta(minutes=1))
        arguments = {
            "description": payment.subject[:127],
            "out_trade_no": payment.reference,
            "amount": {"total": cents(payment.amount), "currency": settings.CURRENCY},
            "time_expire": expires.isoformat(timespec="seconds"),
            "pay_type": WeChatPayType.H5 if phone else WeChatPayType.NATIVE,
        }
        if phone:
            arguments["scene_info"] = {
                "payer_client_ip": getattr(context, "client_ip", "") or "127.0.0.1",
                "h5_info": {"type": "Wap"},
            }
        status, data = self._call("start", self.client.pay, **arguments)
        if status != 200:
            raise GatewayRefusedStart(f"{data.get('code', status)}: {data.get('message', '')}")
        if phone:
            url = data["h5_url"]
            back = getattr(context, "return_url", "")
            if back:
                url += ("&" if "?" in url else "?") + "redirect_url=" + quote(back, safe="")
            return url
        return data["code_url"]

    def code_pay(self, payment, auth_code):
        """付款码支付 (`/v3/pay/transactions/codepay`): paid, refused, or the payer still
        confirming on the phone (USERPAYING): then `paid` is None and the query settles it.

        USERPAYING is read in every shape it may take (payments/README.md, "付款码 at the till":
        the documents found do not settle which one v3 uses): HTTP 202 (v3's "accepted, still
        processing"), an error body with `code` USERPAYING (v2's err_code), or a transaction
        with `trade_state` USERPAYING. None of them is ever read as a refusal."""
        from wechatpayv3 import WeChatPayType

        status, data = self._call(
            "codepay",
            self.client.pay,
            description=payment.subject[:127],
            out_trade_no=payment.reference,
            amount={"total": cents(payment.amount), "currency": settings.CURRENCY},
            payer={"auth_code": auth_code},
            scene_info={"store_info": {"out_id": "diancan"}},
            pay_type=WeChatPayType.CODEPAY,
        )
        state = data.get("trade_state")
        if status == 202 or data.get("code") == "USERPAYING" or state in ("USERPAYING", "NOTPAY"):
            return PaymentState(paid=None, reason="USERPAYING")
        if status == 200 and state == "SUCCESS":
            return self._paid_state(data)
        if status == 200 and state:  # PAYERROR, REVOKED…: the transaction says it failed
            return PaymentState(paid=False, reason=f"{state}: {data.get('trade_state_desc', '')}")
        return PaymentState(
            paid=False, reason=f"{data.get('code', status)}: {data.get('message', '')}"[:200]
        )

    def _paid_state(self, data):
        if data.get("mchid") != self.config["mchid"] or data.get("appid") != self.config["appid"]:
            raise GatewayUnknown("the answer is about another merchant")
        amount = data.get("amount") or {}
        return PaymentState(
            paid=True,
            transaction_id=data.get("transaction_id", ""),
            amount_cents=amount.get("total", -1),
            currency=amount.get("currency", ""),
        )

    # Bills --------------------------------------------------------------------------------

    def trade_bill(self, day):
        """The day's trade bill (`/v3/bill/tradebill`, GZIP), downloaded with a signed request,
        un-gzipped and checked against its SHA1: (text, digest). A mismatch raises BillRefused."""
        status, data = self._call("tradebill", self.client.trade_bill, day.isoformat())
        if status != 200 or not data.get("download_url"):
            raise BillRefused(f"{data.get('code', status)}: {data.get('message', '')}")
        try:
            status, content = self.client.download_bill(data["download_url"])
        except Exception as error:  # requests' errors, or the SDK's bare Exception
            raise GatewayUnknown(f"bill download: {error.__class__.__name__}") from error
        if status != 200 or not isinstance(content, bytes):
            raise BillRefused(f"bill download answered {status}")
        try:
            text = gzip.decompress(content)
        except (OSError, EOFError) as error:
            raise BillRefused(f"the bill is not gzip ({error})") from None
        if (
            data.get("hash_type") != "SHA1"
            or hashlib.sha1(text).hexdigest() != data.get("hash_value", "").lower()
        ):
            raise BillRefused("the bill does not match its hash_value")
        return text.decode("utf-8"), data["hash_value"].lower()

    # JSAPI (inside WeChat) ---------------------------------------------------------------

    def oauth_url(self, redirect_uri, state):
        """WeChat's silent OAuth (snsapi_base): it comes back to `redirect_uri` with a code."""
        query = urlencode({
            "appid": self.config["appid"], "redirect_uri": redirect_uri,
            "response_type": "code", "scope": "snsapi_base", "state": state,
        })  # fmt: skip
        return f"{self.config['oauth_url']}/connect/oauth2/authorize?{query}#wechat_redirect"

    def openid_for(self, code):
        """The payer's openid for an OAuth code (not in the SDK: a plain HTTPS GET)."""
        import requests

        try:
            answer = requests.get(
                f"{self.config['api_url']}/sns/oauth2/access_token",
                params={
                    "appid": self.config["appid"],
                    "secret": self.config["app_secret"],
                    "code": code,
                    "grant_type": "authorization_code",
                },  # fmt: skip
                timeout=self.config["timeout"],
            )
            data = answer.json()
        except (requests.RequestException, ValueError) as error:
            raise GatewayUnknown(f"oauth: {error.__class__.__name__}") from error
        openid = data.get("openid") if isinstance(data, dict) else None
        if not isinstance(openid, str) or not openid:
            raise GatewayRefusedStart(f"oauth: {data.get('errcode')} {data.get('errmsg')}")
        return openid

    def jsapi_params(self, payment, openid):
        """Prepay (`/v3/pay/transactions/jsapi`, the same order again gives the same prepay)
        and the signed parameters of WeixinJSBridge's getBrandWCPayRequest."""
        from wechatpayv3 import WeChatPayType

        expires = timezone.localtime(payment.expires_at + timedelta(minutes=1))
        status, data = self._call(
            "jsapi",
            self.client.pay,
            description=payment.subject[:127],
            out_trade_no=payment.reference,
            amount={"total": cents(payment.amount), "currency": settings.CURRENCY},
            time_expire=expires.isoformat(timespec="seconds"),
            payer={"openid": openid},
            pay_type=WeChatPayType.JSAPI,
        )
        if status != 200 or not data.get("prepay_id"):
            raise GatewayRefusedStart(f"{data.get('code', status)}: {data.get('message', '')}")
        params = {
            "appId": self.config["appid"],
            "timeStamp": str(int(time.time())),
            "nonceStr": secrets.token_hex(16),
            "package": f"prepay_id={data['prepay_id']}",
            "signType": "RSA",
        }
        fields = [params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]
        params["paySign"] = self.client.sign(fields)
        return params

    def close(self, payment):
        """True when the charge can no longer be paid; False when the gateway says it is paid.

        A 付款码 payment is reversed instead (`…/reverse`): the gateway closes it, or gives the
        money back if the payer had confirmed meanwhile, so it is never paid after this."""
        if payment.by_code:
            status, data = self._call("reverse", self.client.codepay_reverse, payment.reference)
            if status in (200, 204) or data.get("code") == "ORDER_NOT_EXIST":
                return True
            raise GatewayUnknown(f"reverse: {status} {data.get('code')}: {data.get('message')}")
        status, data = self._call("close", self.client.close, payment.reference)
        if status in (200, 204):
            return True
        if data.get("code") == "ORDERPAID":
            return False
        if data.get("code") == "ORDER_NOT_EXIST":
            return True  # never created at the gateway (start failed): nothing can be paid
        raise GatewayUnknown(f"close: {status} {data.get('code')}: {data.get('message')}")

    def query(self, payment):
        status, data = self._call("query", self.client.query, out_trade_no=payment.reference)
        if status == 404:
            return PaymentState(paid=None, reason="not at the gateway")
        if status != 200:
            raise GatewayUnknown(f"query: {status} {data.get('code')}")
        if data.get("mchid") != self.config["mchid"] or data.get("appid") != self.config["appid"]:
            raise GatewayUnknown("query: the answer is about another merchant")
        state = data.get("trade_state")
        amount = data.get("amount") or {}
        if state in ("SUCCESS", "REFUND"):
            return PaymentState(
                paid=True,
                transaction_id=data.get("transaction_id", ""),
                amount_cents=amount.get("total", -1),
                currency=amount.get("currency", ""),
            )
        if state == "REVOKED" or (state == "CLOSED" and payment.by_code):
            return PaymentState(paid=False, reason=str(data.get("trade_state_desc") or state))
        if state in ("PAYERROR", "REVOKED"):
            return PaymentState(paid=False, reason=str(data.get("trade_state_desc") or state))
        return PaymentState(paid=None, reason=str(state))  # NOTPAY, USERPAYING, CLOSED

    # Refunds ------------------------------------------------------------------------------

    def refund(self, refund):
        payment = refund.payment
        status, data = self._call(
            "refund",
            self.client.refund,
            out_refund_no=refund_number(refund),
            amount={
                "refund": cents(refund.amount),
                "total": cents(payment.amount),
                "currency": settings.CURRENCY,
            },
            out_trade_no=payment.reference,
            reason=refund.reason[:80],
        )
        if status != 200:
            return RefundResult(
                ok=False, failure=f"{data.get('code', status)}: {data.get('message', '')}"[:200]
            )
        return self._refund_result(data)

    def query_refund(self, refund):
        status, data = self._call("refund query", self.client.query_refund, refund_number(refund))
        if status == 404:
            return None  # the gateway never got it: the caller sends it again, same number
        if status != 200:
            raise GatewayUnknown(f"refund query: {status} {data.get('code')}")
        return self._refund_result(data)

    def _refund_result(self, data):
        state = data.get("status")
        refund_id = data.get("refund_id") or None
        if state == "SUCCESS":
            return RefundResult(ok=True, gateway_refund=refund_id)
        if state == "PROCESSING":
            return RefundResult(ok=None, gateway_refund=refund_id)
        return RefundResult(ok=False, gateway_refund=refund_id, failure=f"{state}"[:200])

    # Notifications ------------------------------------------------------------------------

    def verify(self, headers, body):
        """A payment or refund notification, checked exactly; raises NotifyRefused."""
        given = {name: headers.get(name, "") or "" for name in HEADERS}
        if not all(given[name] for name in HEADERS[:4]):
            raise NotifyRefused("unsigned", "The notification is not signed.", 401)
        timestamp = given["Wechatpay-Timestamp"]
        if (
            not timestamp.isdigit()
            or abs(time.time() - int(timestamp)) > conf.NOTIFY_MAX_SKEW_SECONDS
        ):
            raise NotifyRefused(
                "stale", "The notification's timestamp is too old or in the future."
            )
        if not self._serial_known(given["Wechatpay-Serial"]):
            raise NotifyRefused("unknown_serial", "Signed with a key we do not know.", 401)
        try:
            text = body.decode("utf-8")
            data = self.client.callback(given, text)
        except (UnicodeDecodeError, ValueError):
            raise NotifyRefused("invalid", "The notification is not valid JSON.") from None
        except Exception as error:  # the SDK raises bare Exception for unsupported algorithms
            raise NotifyRefused("invalid", f"The notification is not usable: {error}") from None
        if not data:
            raise NotifyRefused(
                "bad_signature",
                "The signature does not match, or the resource does not decrypt.",
                401,
            )
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise NotifyRefused("invalid", "The notification has no resource.")
        if resource.get("mchid") != self.config["mchid"]:
            raise NotifyRefused("wrong_merchant", "The notification is for another merchant.")
        event = str(data.get("event_type", ""))
        try:
            if event.startswith("REFUND."):
                return self._refund_notice(event, resource)
            if resource.get("appid") != self.config["appid"]:
                raise NotifyRefused("wrong_merchant", "The notification is for another app.")
            amount = resource["amount"]
            note = Notification(
                out_trade_no=resource["out_trade_no"],
                transaction_id=resource.get("transaction_id", ""),
                succeeded=event == "TRANSACTION.SUCCESS" and resource["trade_state"] == "SUCCESS",
                amount_cents=amount["total"],
                currency=amount.get("currency", "CNY"),
                reason=str(resource.get("trade_state_desc") or "")[:200],
            )
        except (KeyError, TypeError):
            raise NotifyRefused("invalid", "The resource is not a transaction.") from None
        _check_ids(note.out_trade_no, note.transaction_id, note.amount_cents)
        return note

    def _serial_known(self, serial):
        """Known now, or (certificate mode) after downloading the certificates again: WeChat
        Pay signs with a new certificate some time after publishing it. The SDK never sees an
        unknown serial, so it never downloads inside this request by itself."""
        try:
            if self.knows_serial(serial):
                return True
            return self.refresh_certificates() and self.knows_serial(serial)
        except GatewayUnknown as error:
            logger.warning("wechatpay: certificates for serial %s: %s", serial, error)
            return False

    def _refund_notice(self, event, resource):
        try:
            notice = RefundNotice(
                out_refund_no=resource["out_refund_no"],
                out_trade_no=resource["out_trade_no"],
                gateway_refund=resource["refund_id"],
                succeeded=event == "REFUND.SUCCESS" and resource["refund_status"] == "SUCCESS",
                amount_cents=resource["amount"]["refund"],
                failure=str(resource.get("refund_status") or event)[:200],
            )
        except (KeyError, TypeError):
            raise NotifyRefused("invalid", "The resource is not a refund.") from None
        _check_ids(notice.out_refund_no, notice.gateway_refund, notice.amount_cents)
        return notice


def _check_ids(ours, theirs, amount):
    if (
        not isinstance(ours, str)
        or not isinstance(theirs, str)
        or not 0 < len(theirs) <= 64
        or isinstance(amount, bool)
        or not isinstance(amount, int)
    ):
        raise NotifyRefused("invalid", "The notification's fields are not of the right kind.")


class GatewayRefusedStart(Exception):
    """The gateway refused to create the charge (its code and message)."""


class BillRefused(Exception):
    """A bill the gateway would not give, or one that does not check out."""
