"""What every provider hands back: a payment's state at the gateway, a refund's result, a
checked notification, a refusal."""

from dataclasses import dataclass
from typing import Any

from restaurant.lib import parse


@dataclass
class RefundResult:
    """`ok`: True given back, False refused (`failure` says why), None accepted and still
    processing at the gateway (its notification or the query settles it)."""

    ok: bool | None
    gateway_refund: str | None = None
    failure: str = ""


@dataclass
class PaymentState:
    """What the query API says of a payment: paid, failed, or still open (None)."""

    paid: bool | None
    transaction_id: str = ""
    amount_cents: int = 0
    currency: str = ""
    reason: str = ""


def refund_number(refund: Any) -> str:
    """Our refund number at the gateway (out_refund_no): one per Refund row, so a refund that
    is tried again after a time-out is the same refund, and a new refund is a new number."""
    return f"{refund.payment.reference}r{refund.pk}"


@dataclass
class StartContext:
    """Who starts a payment: the phone's user agent picks the flow (WeChat: H5 on a phone,
    Native on a desktop), its address goes to the gateway, and the gateway's page sends the
    payer back to `return_url`."""

    user_agent: str = ""
    client_ip: str = ""
    return_url: str = ""
    token: str = ""  # the table's: Alipay wap sends the phone through our own address first


class GatewayUnknown(Exception):
    """A gateway call timed out, failed on the network or got a 5xx: the outcome is unknown,
    not a failure. The query API or the notification settles it later."""


@dataclass
class Notification:
    """What a gateway told us, checked and parsed."""

    out_trade_no: str
    transaction_id: str
    succeeded: bool
    amount_cents: int
    currency: str
    reason: str = ""


@dataclass
class RefundNotice:
    """A gateway's word on a refund (WeChat's REFUND.SUCCESS / ABNORMAL / CLOSED)."""

    out_refund_no: str
    out_trade_no: str
    gateway_refund: str
    succeeded: bool
    amount_cents: int
    failure: str = ""

    @property
    def ours(self) -> tuple[str, int]:
        """The payment reference and the Refund id our refund number names (`<reference>r<id>`,
        providers' `refund_number`); id 0 when the number is not one of ours."""
        reference, _sep, refund_id = self.out_refund_no.rpartition("r")
        number = parse.whole_number(refund_id)
        return reference, number if number is not None and number < 2**63 else 0


class NotifyIgnored(Exception):
    """A genuine notification that changes nothing (Alipay's WAIT_BUYER_PAY): acknowledged."""


class NotifyRefused(Exception):
    """A notification we do not believe or cannot apply; answered with `status`, logged."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
