"""Payment providers: one interface for every way money comes in.

A provider says how a payment is taken and given back:
- `immediate`: True when the money is in hand as the payment is recorded (cash, a card terminal
  the cashier confirms); False when a gateway completes it later with a signed notification.
- `start(payment)` asks the gateway for a charge and returns the `code_url` a phone scans.
- `close(payment)` closes a charge at the gateway; False when the gateway says it was paid.
- `refund(refund)` gives money back; returns a RefundResult.
- `verify(headers, body)` (gateways) checks a notification and returns a Notification.

Gateways may also have `query(payment)` and `query_refund(refund)` (settling what a time-out
left unknown). QR gateways offered here: WeChat Pay (API v3, when WECHATPAY_ is configured), Alipay
(when ALIPAY_ is configured) and the sandbox (for demos). Member balance (`member`) is taken at once
from the member's wallet (payments/members), and given back to it.
"""

from .. import conf
from ..models import Method
from .alipay import AlipayProvider
from .base import RefundResult
from .sandbox import Sandbox
from .wechatpay import WeChatPayProvider


class Cash:
    name = "cash"
    method = Method.CASH
    immediate = True

    def refund(self, refund):
        # The cashier hands the money back from the drawer; the ledger records cash out.
        return RefundResult(ok=True)


class Card:
    name = "card"
    method = Method.CARD
    immediate = True

    def refund(self, refund):
        # The cashier runs the refund on the same card terminal it was paid with.
        return RefundResult(ok=True)


class MemberBalance:
    name = "member"
    method = Method.MEMBER
    immediate = True

    def refund(self, refund):
        # Back to the wallet: booked with the refund (members.services.balance_refund).
        return RefundResult(ok=True)


def qr_gateways():
    """The QR gateways offered here, in the order the pay page shows them."""
    offered: list[WeChatPayProvider | AlipayProvider | Sandbox] = []
    if conf.wechatpay_enabled():
        offered.append(WeChatPayProvider())
    if conf.alipay_enabled():
        offered.append(AlipayProvider())
    if conf.sandbox_enabled():
        offered.append(Sandbox())
    return offered


def gateway(name):
    """The offered QR gateway of this name (the first offered for ""), or None."""
    offered = qr_gateways()
    if not name:
        return offered[0] if offered else None
    return next((provider for provider in offered if provider.name == name), None)


def for_method(method, gateway_name=""):
    """The provider of a method, or None when the method is not available here."""
    if method == Method.CASH:
        return Cash()
    if method == Method.CARD:
        return Card()
    if method == Method.QR:
        return gateway(gateway_name)
    if method == Method.MEMBER:
        return MemberBalance()
    return None


def by_name(name):
    """The provider of an existing payment (to close or refund it)."""
    if name == "sandbox":
        return Sandbox()
    if name == "wechatpay":
        return WeChatPayProvider()
    if name == "alipay":
        return AlipayProvider()
    return {"cash": Cash, "card": Card, "member": MemberBalance}[name]()
