"""Alipay (当面付 `alipay.trade.precreate`, 手机网站支付 `alipay.trade.wap.pay`), through the kept
SDK `python-alipay-sdk` (RSA2 keys, not the certificate mode).

The SDK signs every request (SHA256withRSA over the sorted parameters), verifies every answer's
signature with the Alipay public key, builds the signed wap.pay request the phone is sent to,
and verifies notifications (`verify`: the sorted parameters without `sign` and `sign_type`).
What it does not do we do here (payments/README.md, "Alipay"):

- the gateway's address: the SDK knows only the real gateway and the old sandbox, so `_gateway`
  is set to `ALIPAY_GATEWAY_URL`;
- answers are verified by the SDK but their business `code` is ours to read: 10000 is success,
  40004 a refusal (`sub_code`, `sub_msg`), 20000 (service unavailable) is unknown;
- a notification's `app_id` and `seller_id` must be ours, its `notify_time` within 5 minutes
  (Beijing time), its `trade_status` decides: TRADE_SUCCESS / TRADE_FINISHED pay, TRADE_CLOSED
  fails an unfinished payment, WAIT_BUYER_PAY is acknowledged and changes nothing.

Every call here is network I/O, made with no transaction open and no row locked; a time-out,
a network error or an answer we cannot verify raises `GatewayUnknown`.
"""

import logging
import re
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from urllib.parse import parse_qs

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from restaurant.lib.money import money_str

from .. import conf
from ..models import Method
from .base import (
    GatewayUnknown,
    Notification,
    NotifyIgnored,
    NotifyRefused,
    PaymentState,
    RefundResult,
    refund_number,
)
from .wechatpay import BillRefused, cents, is_phone

logger = logging.getLogger("payments.alipay")
CHINA = timezone.get_fixed_timezone(8 * 60)
YUAN = re.compile(r"\d{1,9}\.\d{2}")


def china_time(moment):
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Failed:
    code: str
    sub_code: str
    message: str

    def __str__(self):
        return f"{self.sub_code or self.code}: {self.message}"[:200]


@lru_cache(maxsize=4)
def _client(appid, private_key, public_key, gateway_url, notify_url, timeout):
    # Imported here: pyOpenSSL and pycryptodomex take a second to load, and only a process
    # that talks to Alipay needs them (not the worker's start nor a site without Alipay).
    from alipay import AliPay
    from alipay.utils import AliPayConfig

    client = AliPay(
        appid=appid,
        app_notify_url=notify_url,
        app_private_key_string=private_key,
        alipay_public_key_string=public_key,
        sign_type="RSA2",
        config=AliPayConfig(timeout=timeout),
    )
    client._gateway = gateway_url  # the SDK has no parameter for the gateway's address
    return client


class AlipayProvider:
    name = "alipay"
    method = Method.QR
    immediate = False

    def __init__(self, config=None):
        self.config = config or settings.ALIPAY

    @property
    def client(self):
        c = self.config
        return _client(c["appid"], c["private_key"], c["public_key"], c["gateway_url"],
                       c["notify_url"], c["timeout"])  # fmt: skip

    def _call(self, what, function, **kwargs):
        """One SDK call: the verified answer, or Failed; unknown outcomes raise GatewayUnknown."""
        from alipay.exceptions import AliPayException, AliPayValidationError

        try:
            answer = function(**kwargs)
        except OSError as error:  # URLError, time-outs, refused connections
            raise GatewayUnknown(f"{what}: {error.__class__.__name__}") from error
        except AliPayValidationError:
            raise GatewayUnknown(f"{what}: the answer is not signed by Alipay") from None
        except AliPayException as error:  # an unsigned error answer (bad app id, bad signature)
            return Failed("error", "", str(error)[:200])
        except ValueError as error:
            raise GatewayUnknown(f"{what}: the answer is not JSON") from error
        code = str(answer.get("code", ""))
        if code == "10000":
            return answer
        if code in ("20000", "20001") or answer.get("sub_code") == "ACQ.SYSTEM_ERROR":
            raise GatewayUnknown(f"{what}: {code} {answer.get('sub_code', '')}")
        return Failed(
            code, answer.get("sub_code", ""), answer.get("sub_msg") or answer.get("msg", "")
        )

    def _subject(self, payment):
        return payment.subject[:256]

    def _expiry(self, payment):
        return china_time(payment.expires_at + timedelta(minutes=1))

    # Payments -----------------------------------------------------------------------------

    def start(self, payment, *, context=None):
        """precreate (a qr_code) on a desktop; on a phone our own address, which sends the phone
        to the gateway with a freshly signed wap.pay request (`wap_url`)."""
        if is_phone(getattr(context, "user_agent", "")):
            token = getattr(context, "token", "")
            path = reverse("payments:alipay-wap", args=[token, payment.reference])
            return settings.PUBLIC_URL + path
        answer = self._call(
            "precreate",
            self.client.api_alipay_trade_precreate,
            subject=self._subject(payment),
            out_trade_no=payment.reference,
            total_amount=money_str(payment.amount),
            time_expire=self._expiry(payment),
        )
        if isinstance(answer, Failed):
            raise GatewayRefusedStart(str(answer))
        return answer["qr_code"]

    def wap_url(self, payment, *, return_url):
        """The gateway's address with the signed `alipay.trade.wap.pay` request, for a phone."""
        signed = self.client.api_alipay_trade_wap_pay(
            subject=self._subject(payment),
            out_trade_no=payment.reference,
            total_amount=money_str(payment.amount),
            return_url=return_url,
            quit_url=return_url,
            time_expire=self._expiry(payment),
        )
        return self.config["gateway_url"] + "?" + signed

    def code_pay(self, payment, auth_code):
        """当面付 bar_code (`alipay.trade.pay`): paid, refused, or the payer still confirming
        (10003 WAIT_USER_PAY): then `paid` is None."""
        answer = self._call(
            "pay",
            self.client.api_alipay_trade_pay,
            out_trade_no=payment.reference,
            scene="bar_code",
            auth_code=auth_code,
            subject=self._subject(payment),
            total_amount=money_str(payment.amount),
        )
        if isinstance(answer, Failed):
            if answer.code == "10003":
                return PaymentState(paid=None, reason="WAIT_USER_PAY")
            return PaymentState(paid=False, reason=str(answer))
        return self._paid_state(answer)

    def _paid_state(self, answer):
        total = answer.get("total_amount", "")
        return PaymentState(
            paid=True,
            transaction_id=answer.get("trade_no", ""),
            amount_cents=cents(Decimal(total)) if YUAN.fullmatch(total) else -1,
            currency=settings.CURRENCY,
        )

    def close(self, payment):
        if payment.by_code:
            # A 付款码 payment is cancelled (alipay.trade.cancel): closed, or given back to the
            # payer if they had confirmed meanwhile; never paid after this.
            answer = self._call(
                "cancel", self.client.api_alipay_trade_cancel, out_trade_no=payment.reference
            )
            if not isinstance(answer, Failed) or answer.sub_code == "ACQ.TRADE_NOT_EXIST":
                return True
            raise GatewayUnknown(f"cancel: {answer}")
        answer = self._call(
            "close", self.client.api_alipay_trade_close, out_trade_no=payment.reference
        )
        if not isinstance(answer, Failed):
            return True
        if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
            # Nobody opened or scanned it yet. Alipay keeps such a code payable until its
            # time_expire (our expiry + 1 minute): a payment made then is a late success,
            # recorded and refunded at once.
            return True
        if answer.sub_code == "ACQ.TRADE_STATUS_ERROR":
            return False  # paid (or closed already): the notification or the query says which
        raise GatewayUnknown(f"close: {answer}")

    def query(self, payment):
        answer = self._call(
            "query", self.client.api_alipay_trade_query, out_trade_no=payment.reference
        )
        if isinstance(answer, Failed):
            if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
                return PaymentState(paid=None, reason="not at the gateway")
            raise GatewayUnknown(f"query: {answer}")
        status = answer.get("trade_status")
        if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return self._paid_state(answer)
        if status == "TRADE_CLOSED":
            return PaymentState(paid=False, reason="TRADE_CLOSED")
        return PaymentState(paid=None, reason=str(status))

    # Bills --------------------------------------------------------------------------------

    def trade_bill(self, day):
        """The day's trade bill: its download address by
        `alipay.data.dataservice.bill.downloadurl.query` (not wrapped by the SDK: its generic
        `server_api`, signed and verified the same way), then the zip it names: (bytes, "")."""
        answer = self._call(
            "bill",
            self.client.server_api,
            api_name="alipay.data.dataservice.bill.downloadurl.query",
            biz_content={"bill_type": "trade", "bill_date": day.isoformat()},
        )
        if isinstance(answer, Failed) or not answer.get("bill_download_url"):
            raise BillRefused(str(answer))
        try:
            with urllib.request.urlopen(answer["bill_download_url"], timeout=30) as download:
                return download.read(), ""
        except OSError as error:
            raise GatewayUnknown(f"bill download: {error.__class__.__name__}") from error

    # Refunds ------------------------------------------------------------------------------

    def refund(self, refund):
        number = refund_number(refund)
        answer = self._call(
            "refund",
            self.client.api_alipay_trade_refund,
            refund_amount=money_str(refund.amount),
            out_trade_no=refund.payment.reference,
            out_request_no=number,
            refund_reason=refund.reason[:256],
        )
        if isinstance(answer, Failed):
            return RefundResult(ok=False, failure=str(answer))
        # Synchronous: 10000 is given back (fund_change N: this number was refunded before).
        return RefundResult(ok=True, gateway_refund=number)

    def query_refund(self, refund):
        number = refund_number(refund)
        answer = self._call(
            "refund query",
            self.client.api_alipay_trade_fastpay_refund_query,
            out_request_no=number,
            out_trade_no=refund.payment.reference,
        )
        if isinstance(answer, Failed):
            raise GatewayUnknown(f"refund query: {answer}")
        if not answer.get("refund_amount"):
            return None  # Alipay never got it: the caller sends it again, same number
        if answer.get("refund_status", "REFUND_SUCCESS") == "REFUND_SUCCESS":
            return RefundResult(ok=True, gateway_refund=number)
        return RefundResult(ok=None)

    # Notifications ------------------------------------------------------------------------

    def verify(self, headers, body):
        """An asynchronous notification (form POST), checked exactly; raises NotifyRefused."""
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise NotifyRefused("invalid", "The notification is not a form.") from None
        if any(len(values) != 1 for values in parsed.values()):
            raise NotifyRefused("invalid", "A field is repeated.")
        fields = {name: values[0] for name, values in parsed.items()}
        signature = fields.pop("sign", "")
        if not signature:
            raise NotifyRefused("unsigned", "The notification is not signed.", 401)
        if fields.get("sign_type") != "RSA2":
            raise NotifyRefused("bad_signature", "Only RSA2 signatures are taken.", 401)
        from alipay.exceptions import AliPayException

        try:
            valid = self.client.verify(dict(fields), signature)
        except (ValueError, TypeError, AliPayException):
            valid = False
        if not valid:
            raise NotifyRefused("bad_signature", "The signature does not match.", 401)
        try:
            sent = datetime.strptime(fields.get("notify_time", ""), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise NotifyRefused("stale", "The notification has no notify_time.") from None
        skew = abs(sent.replace(tzinfo=CHINA).timestamp() - time.time())
        if skew > conf.NOTIFY_MAX_SKEW_SECONDS:
            raise NotifyRefused("stale", "The notification's time is too old or in the future.")
        if fields.get("app_id") != self.config["appid"]:
            raise NotifyRefused("wrong_merchant", "The notification is for another app.")
        if fields.get("seller_id") != self.config["seller_id"]:
            raise NotifyRefused("wrong_merchant", "The notification is for another seller.")
        status = fields.get("trade_status", "")
        if status == "WAIT_BUYER_PAY":
            raise NotifyIgnored("Waiting for the buyer: nothing to do yet.")
        if status not in ("TRADE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED"):
            raise NotifyRefused("invalid", "Unknown trade_status.")
        total, trade_no = fields.get("total_amount", ""), fields.get("trade_no", "")
        if not YUAN.fullmatch(total) or not fields.get("out_trade_no"):
            raise NotifyRefused("invalid", "The notification's amount or order is missing.")
        succeeded = status != "TRADE_CLOSED"
        if succeeded and not 0 < len(trade_no) <= 64:
            raise NotifyRefused("invalid", "The notification has no trade_no.")
        return Notification(
            out_trade_no=fields["out_trade_no"],
            transaction_id=trade_no,
            succeeded=succeeded,
            amount_cents=cents(Decimal(total)),
            currency=fields.get("trans_currency") or settings.CURRENCY,
            reason=status,
        )


class GatewayRefusedStart(Exception):
    """Alipay refused to create the charge (its sub_code and message)."""
