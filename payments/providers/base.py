"""What every provider hands back: a refund's result, a checked notification, a refusal."""

from dataclasses import dataclass


@dataclass
class RefundResult:
    ok: bool
    gateway_refund: str | None = None
    failure: str = ""


@dataclass
class Notification:
    """What a gateway told us, checked and parsed."""

    out_trade_no: str
    transaction_id: str
    succeeded: bool
    amount_cents: int
    currency: str
    reason: str = ""


class NotifyRefused(Exception):
    """A notification we do not believe or cannot apply; answered with `status`, logged."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
