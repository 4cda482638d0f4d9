"""Payment providers: one interface for every way money comes in.

A provider says how a payment is taken and given back:
- `immediate`: True when the money is in hand as the payment is recorded (cash, a card terminal
  the cashier confirms); False when a gateway completes it later with a signed notification.
- `start(payment)` asks the gateway for a charge and returns the `code_url` a phone scans.
- `close(payment)` closes a charge at the gateway; False when the gateway says it was paid.
- `refund(refund)` gives money back; returns a RefundResult.
- `verify(headers, body)` (gateways) checks a notification and returns a Notification.

WeChat Pay (v3) and Alipay (当面付) fit the same shape and come in a later issue; member balance
needs members and wallets, which do not exist yet, so it is not here.
"""

from .. import conf
from ..models import Method
from .base import RefundResult
from .sandbox import Sandbox


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


def for_method(method):
    """The provider of a method, or None when the method is not available here."""
    if method == Method.CASH:
        return Cash()
    if method == Method.CARD:
        return Card()
    if method == Method.QR and conf.sandbox_enabled():
        return Sandbox()
    return None


def by_name(name):
    if name == "sandbox":
        return Sandbox()
    return {"cash": Cash, "card": Card}[name]()
