"""The sandbox gateway: a local stand-in for a QR payment gateway that behaves like a real one.

Two halves, kept apart as if a network ran between them:

- *The gateway* (`gateway_*`, `deliver`): keeps its own record of each charge (SandboxCharge),
  shows the phone a page at the charge's `code_url` where it can approve or decline, and tells
  the merchant the outcome by POSTing a signed notification over HTTP to our notify endpoint,
  from a thread, retrying on errors as gateways do; it can also send it twice, or never (the
  payment then expires). It refuses charges that expired or were closed.
- *Our client* (`Sandbox`): starts a charge, asks about one (`query`), closes one, refunds, and
  verifies notifications. With `SANDBOX_TRANSPORT=local` (the default) it calls the gateway's
  functions in this process; with `http` it calls the gateway's API (`/sandbox/api/<op>/`,
  signed like a notification) over the network with a time-out, as a real gateway's client
  does: a time-out, a network error or a 5xx is `GatewayUnknown`, never a failure.
- *Faults* (`/sandbox/faults/`, signed): the gateway's API can be told to answer its next
  calls of one operation late (after doing the work, past the client's time-out) or with a
  500 (without doing it), and to drop its next notifications; the fault drills use this
  (tests/drills/test_gateway_faults.py) through the real HTTP path.

Signing, shaped like WeChat Pay v3 but named for what it is: headers `Sandbox-Timestamp` (Unix
seconds), `Sandbox-Nonce` and `Sandbox-Signature` = base64(HMAC-SHA256(secret,
"<timestamp>\\n<nonce>\\n<raw body>\\n")). A timestamp more than 5 minutes off is refused.
Amounts travel in fen (cents) as integers, like WeChat's `amount.total`.
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import conf
from ..models import Method, SandboxCharge, SandboxRefund
from .base import (
    GatewayUnknown,
    Notification,
    NotifyRefused,
    PaymentState,
    RefundResult,
    refund_number,
)

logger = logging.getLogger("payments.sandbox")

TIMESTAMP = "Sandbox-Timestamp"
NONCE = "Sandbox-Nonce"
SIGNATURE = "Sandbox-Signature"
RETRY_DELAYS = (0, 0.5, 2, 5)  # seconds before each attempt of one delivery


class SandboxError(Exception):
    """The gateway refuses: the charge is unknown, expired, closed or already decided."""


def cents(amount):
    return int((amount * 100).to_integral_value())


def sign(secret, timestamp, nonce, body):
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(body, *, secret=None, timestamp=None, nonce=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    signature = sign(secret or conf.sandbox_secret(), timestamp, nonce, body)
    return {TIMESTAMP: timestamp, NONCE: nonce, SIGNATURE: signature}


# The gateway's side ---------------------------------------------------------------------------


def gateway_create(*, out_trade_no, amount_cents, description, expires_at):
    """A charge for this merchant order; the same order number again gets the same charge."""
    charge, _created = SandboxCharge.objects.get_or_create(
        out_trade_no=out_trade_no,
        defaults={
            "id": "sbx" + secrets.token_hex(12),
            "amount_cents": amount_cents,
            "description": description[:100],
            "transaction_id": "4200" + secrets.token_hex(12),
            "expires_at": expires_at,
        },
    )
    return charge


def gateway_decide(charge_id, *, approve, reason=""):
    """The phone approves or declines. Compare-and-set: a closed or expired charge stays so."""
    now = timezone.now()
    new = SandboxCharge.Status.PAID if approve else SandboxCharge.Status.DECLINED
    decided = SandboxCharge.objects.filter(
        pk=charge_id, status=SandboxCharge.Status.OPEN, expires_at__gt=now
    ).update(status=new, finished_at=now)
    charge = SandboxCharge.objects.filter(pk=charge_id).first()
    if charge is None:
        raise SandboxError("No such charge.")
    if not decided:
        raise SandboxError(
            f"This charge is {charge.status if charge.expires_at > now else 'expired'}."
        )
    return charge


def gateway_close(out_trade_no):
    """Close an unpaid charge. True when it can no longer be paid; False when it was paid."""
    SandboxCharge.objects.filter(
        out_trade_no=out_trade_no, status=SandboxCharge.Status.OPEN
    ).update(status=SandboxCharge.Status.CLOSED, finished_at=timezone.now())
    status = (
        SandboxCharge.objects.filter(out_trade_no=out_trade_no)
        .values_list("status", flat=True)
        .first()
    )
    return status != SandboxCharge.Status.PAID


def gateway_refund(out_trade_no, amount_cents, out_refund_no):
    """Give back part of a paid charge, never more than was paid, once per refund number (the
    same number again answers the first refund's id and gives nothing more). Returns its id."""
    from django.db import IntegrityError
    from django.db.models import F

    with transaction.atomic():
        # The charge is locked first: the same number sent twice at once waits here, then
        # finds the first one's record.
        charge = SandboxCharge.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        known = SandboxRefund.objects.filter(out_refund_no=out_refund_no).first()
        if known is not None:
            return known.refund_id
        refunded = SandboxCharge.objects.filter(
            out_trade_no=out_trade_no,
            status=SandboxCharge.Status.PAID,
            refunded_cents__lte=F("amount_cents") - amount_cents,
        ).update(refunded_cents=F("refunded_cents") + amount_cents)
        if not refunded or charge is None:
            raise SandboxError("The charge is not paid, or this would refund more than was paid.")
        try:
            with transaction.atomic():
                refund = SandboxRefund.objects.create(
                    out_refund_no=out_refund_no, charge=charge, amount_cents=amount_cents,
                    refund_id="5030" + secrets.token_hex(12),
                )  # fmt: skip
        except IntegrityError:  # the number of another charge's refund: nothing is given back
            raise SandboxError("This refund number belongs to another refund.") from None
    return refund.refund_id


def gateway_refund_query(out_refund_no):
    """A refund as the gateway knows it (sandbox refunds are given back at once), or None."""
    refund = SandboxRefund.objects.filter(out_refund_no=out_refund_no).first()
    if refund is None:
        return None
    return {"status": "SUCCESS", "refund_id": refund.refund_id, "amount_cents": refund.amount_cents}


def gateway_query(out_trade_no):
    """The charge as the gateway knows it, or None when it has no such charge."""
    return SandboxCharge.objects.filter(out_trade_no=out_trade_no).first()


def _charge_view(charge):
    now = timezone.now()
    status = charge.status
    if status == SandboxCharge.Status.OPEN and charge.expires_at <= now:
        status = "expired"
    return {
        "id": charge.pk,
        "out_trade_no": charge.out_trade_no,
        "status": status,
        "transaction_id": charge.transaction_id if status == SandboxCharge.Status.PAID else "",
        "amount_cents": charge.amount_cents,
        "currency": settings.CURRENCY,
    }


def gateway_call(op, data):
    """One call of the gateway's API, whichever way it came (in process or over HTTP).
    Returns the answer as a dict; raises SandboxError for a refusal (a 4xx over HTTP)."""
    if op == "create":
        charge = gateway_create(
            out_trade_no=data["out_trade_no"],
            amount_cents=data["amount_cents"],
            description=data["description"],
            expires_at=parse_datetime(data["expires_at"]),
        )
        return _charge_view(charge)
    if op == "query":
        charge = gateway_query(data["out_trade_no"])
        return {"status": "unknown"} if charge is None else _charge_view(charge)
    if op == "close":
        return {"closed": gateway_close(data["out_trade_no"])}
    if op == "refund":
        refund_id = gateway_refund(
            data["out_trade_no"], data["amount_cents"], data["out_refund_no"]
        )
        return {"refund_id": refund_id}
    if op == "refund_query":
        return gateway_refund_query(data["out_refund_no"]) or {"status": "unknown"}
    raise SandboxError(f"No such operation: {op}.")


OPERATIONS = ("create", "query", "close", "refund", "refund_query")
FAULTS = {op: ("timeout", "error") for op in OPERATIONS} | {"notify": ("drop",)}
FAULTS_KEY = "sandbox:faults"


def set_fault(op, fault, times=1):
    """The gateway's next `times` calls of `op` go wrong: `timeout` (the work is done, the
    answer comes after the client gave up), `error` (a 500, nothing done), `drop` (a
    notification is not sent at all). `times=0` clears it."""
    if fault not in FAULTS.get(op, ()):
        raise SandboxError(f"No fault {fault!r} for {op!r}.")
    faults = cache.get(FAULTS_KEY) or {}
    if times > 0:
        faults[op] = [fault, times]
    else:
        faults.pop(op, None)
    cache.set(FAULTS_KEY, faults, 3600)


def take_fault(op):
    """The fault planned for this call of `op`, if any (one of its `times` is used up)."""
    faults = cache.get(FAULTS_KEY) or {}
    planned = faults.get(op)
    if not planned:
        return None
    fault, times = planned
    if times > 1:
        faults[op] = [fault, times - 1]
    else:
        faults.pop(op)
    cache.set(FAULTS_KEY, faults, 3600)
    return fault


def check_signed(headers, body):
    """A call to the gateway's API or fault switch must be signed with the sandbox secret and
    fresh; raises NotifyRefused otherwise."""
    timestamp, nonce = headers.get(TIMESTAMP, ""), headers.get(NONCE, "")
    signature = headers.get(SIGNATURE, "")
    if not (timestamp.isdigit() and nonce and signature and len(nonce) <= 64):
        raise NotifyRefused("unsigned", "The call is not signed.", 401)
    if abs(time.time() - int(timestamp)) > conf.NOTIFY_MAX_SKEW_SECONDS:
        raise NotifyRefused("stale", "The call's timestamp is too old or in the future.", 401)
    if not hmac.compare_digest(sign(conf.sandbox_secret(), timestamp, nonce, body), signature):
        raise NotifyRefused("bad_signature", "The signature does not match.", 401)


def notification_body(charge):
    """The raw JSON a notification carries, as bytes."""
    paid = charge.status == SandboxCharge.Status.PAID
    finished = timezone.localtime(charge.finished_at or timezone.now()).isoformat(
        timespec="seconds"
    )
    body = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{charge.pk}/{charge.status}")),
        "create_time": finished,
        "event_type": "TRANSACTION.SUCCESS" if paid else "TRANSACTION.FAIL",
        "resource": {
            "out_trade_no": charge.out_trade_no,
            "transaction_id": charge.transaction_id,
            "trade_state": "SUCCESS" if paid else "PAYERROR",
            "trade_state_desc": "paid" if paid else "declined by the payer",
            "amount": {"total": charge.amount_cents, "currency": settings.CURRENCY},
            "success_time": finished if paid else None,
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def deliver(charge, *, times=1):
    """POST the charge's outcome to the merchant, `times` times, from a thread (after commit).

    Each delivery retries on a network error or a 5xx, as gateways do; a 4xx is final.
    """
    if conf.sandbox_delivery() == "off":
        return
    if take_fault("notify") == "drop":
        logger.warning("sandbox: dropping the notification of %s (a planned fault)", charge.pk)
        return
    url, secret, body = conf.sandbox_notify_url(), conf.sandbox_secret(), notification_body(charge)

    def post_once():
        for delay in RETRY_DELAYS:
            time.sleep(delay)
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", **signed_headers(body, secret=secret)},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    logger.warning("sandbox: %s refused the notification: %s", url, error.code)
                    return error.code
            except OSError as error:
                logger.info("sandbox: notify to %s failed (%s), retrying", url, error)
        logger.warning("sandbox: gave up notifying %s of %s", url, charge.out_trade_no)
        return None

    def run():
        for _ in range(times):
            post_once()

    transaction.on_commit(lambda: threading.Thread(target=run, daemon=True).start())


# Our client -----------------------------------------------------------------------------------


def _call(op, data):
    """Our client's call of the gateway's API: in process, or over HTTP with a time-out."""
    if conf.sandbox_transport() != "http":
        return gateway_call(op, data)
    body = json.dumps(data, separators=(",", ":")).encode()
    request = urllib.request.Request(
        f"{conf.sandbox_gateway_url()}/sandbox/api/{op}/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **signed_headers(body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=conf.sandbox_timeout()) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            raise GatewayUnknown(f"{op}: the gateway answered {error.code}") from error
        try:
            message = json.loads(error.read()).get("message", "")
        except (ValueError, AttributeError):
            message = ""
        raise SandboxError(message or f"{op}: refused ({error.code})") from error
    except (OSError, ValueError) as error:  # a time-out, a refused connection, a cut answer
        raise GatewayUnknown(f"{op}: {error.__class__.__name__}: {error}") from error


class Sandbox:
    name = "sandbox"
    method = Method.QR
    immediate = False

    def start(self, payment, *, context=None):
        charge = _call(
            "create",
            {
                "out_trade_no": payment.reference,
                "amount_cents": cents(payment.amount),
                "description": payment.subject,
                # The gateway lets the charge live a little longer than we wait for it, so
                # that a payment we expire has been closed at the gateway first (see
                # payments_expire_due).
                "expires_at": (payment.expires_at + timedelta(minutes=1)).isoformat(),
            },
        )
        return f"{settings.PUBLIC_URL}/sandbox/pay/{charge['id']}/"

    def query(self, payment):
        """What the gateway says of the charge: paid, declined, or not (yet) either."""
        charge = _call("query", {"out_trade_no": payment.reference})
        status = charge.get("status")
        if status == SandboxCharge.Status.PAID:
            return PaymentState(
                paid=True,
                transaction_id=charge["transaction_id"],
                amount_cents=charge["amount_cents"],
                currency=charge["currency"],
            )
        if status == SandboxCharge.Status.DECLINED:
            return PaymentState(paid=False, reason="declined by the payer")
        return PaymentState(paid=None, reason=str(status))  # open, closed, expired, unknown

    def close(self, payment):
        try:
            return _call("close", {"out_trade_no": payment.reference})["closed"]
        except SandboxError as error:
            raise GatewayUnknown(f"close: {error}") from error

    def refund(self, refund):
        try:
            answer = _call(
                "refund",
                {
                    "out_trade_no": refund.payment.reference,
                    "amount_cents": cents(refund.amount),
                    "out_refund_no": refund_number(refund),
                },
            )
        except SandboxError as error:
            return RefundResult(ok=False, failure=str(error))
        return RefundResult(ok=True, gateway_refund=answer["refund_id"])

    def query_refund(self, refund):
        """What the gateway says of a refund whose answer we did not get: given back, or None
        when it never got it (the caller sends it again under the same number)."""
        try:
            answer = _call("refund_query", {"out_refund_no": refund_number(refund)})
        except SandboxError as error:
            raise GatewayUnknown(f"refund query: {error}") from error
        if answer.get("status") != "SUCCESS":
            return None
        return RefundResult(ok=True, gateway_refund=answer["refund_id"])

    def verify(self, headers, body):
        """Check a notification's signature and freshness, then parse it. Raises NotifyRefused."""
        timestamp, nonce = headers.get(TIMESTAMP, ""), headers.get(NONCE, "")
        signature = headers.get(SIGNATURE, "")
        if not (timestamp and nonce and signature):
            raise NotifyRefused("unsigned", "The notification is not signed.", 401)
        if (
            not timestamp.isdigit()
            or abs(time.time() - int(timestamp)) > conf.NOTIFY_MAX_SKEW_SECONDS
        ):
            raise NotifyRefused(
                "stale", "The notification's timestamp is too old or in the future."
            )
        if len(nonce) > 64:
            raise NotifyRefused("bad_nonce", "The nonce is too long.")
        expected = sign(conf.sandbox_secret(), timestamp, nonce, body)
        if not hmac.compare_digest(expected, signature):
            raise NotifyRefused("bad_signature", "The signature does not match.", 401)
        try:
            data = json.loads(body)
            resource = data["resource"]
            state = resource["trade_state"]
            amount = resource["amount"]
            parsed = Notification(
                out_trade_no=resource["out_trade_no"],
                transaction_id=resource["transaction_id"],
                succeeded=state == "SUCCESS",
                amount_cents=amount["total"],
                currency=amount["currency"],
                reason=str(resource.get("trade_state_desc") or "")[:200],
            )
        except (ValueError, KeyError, TypeError):
            raise NotifyRefused(
                "invalid", "The notification is not valid JSON of a charge."
            ) from None
        if (
            state not in ("SUCCESS", "PAYERROR", "CLOSED")
            or not isinstance(parsed.out_trade_no, str)
            or not isinstance(parsed.transaction_id, str)
            or not 0 < len(parsed.transaction_id) <= 64
            or isinstance(parsed.amount_cents, bool)
            or not isinstance(parsed.amount_cents, int)
        ):
            raise NotifyRefused("invalid", "The notification is not valid JSON of a charge.")
        return parsed
