"""What a bill's payment and a member's top-up by WeChat Pay or Alipay share in talking to the
gateways (payments.services, payments.members.topups): how a 付款码 names its gateway, how long
a payer may confirm, when the worker asks or closes, and how a refused notification is logged.
"""

import logging
from datetime import timedelta

from restaurant.lib.errors import Code, Refused

from .providers.base import NotifyRefused

logger = logging.getLogger("payments")

# How long the payer may take to confirm on the phone (USERPAYING / WAIT_USER_PAY) before the
# payment is reversed: WeChat asks merchants to poll about 30 s, Alipay up to about a minute.
CODE_WAIT = timedelta(seconds=45)
# The payment expires (and the expiry job reverses it, should the settle job not have) later.
CODE_EXPIRY = CODE_WAIT + timedelta(minutes=1)

# A 付款码 payment whose reverse did not get an answer (its `failure` while pending): it is
# reversed again until the gateway answers, never booked as paid.
REVERSING = "reversing: the gateway did not answer"

# The worker's claims (compare-and-set on `closing_until`): a close, and a query of a payment
# pending for SETTLE_AFTER, at most once per claim.
CLOSE_CLAIM = timedelta(minutes=2)
SETTLE_AFTER = timedelta(seconds=30)
SETTLE_CLAIM = timedelta(seconds=30)


def gateway_for_code(auth_code: str) -> str:
    """The gateway of a payer's code (16 to 24 ASCII digits, as the edges read it): WeChat's are
    18 digits starting 10–15, Alipay's 16–24 digits starting 25–30 (each gateway's rules)."""
    if len(auth_code) == 18 and 10 <= int(auth_code[:2]) <= 15:
        return "wechatpay"
    if 16 <= len(auth_code) <= 24 and 25 <= int(auth_code[:2]) <= 30:
        return "alipay"
    raise Refused(Code.BAD_AUTH_CODE)


def refused_logged(refused: NotifyRefused, body: bytes) -> NotifyRefused:
    """A notification we refuse: logged (logger `payments`) with its first 500 bytes."""
    logger.warning(
        "payments: notification refused (%s: %s): %r", refused.code, refused.message, body[:500]
    )
    return refused
