"""Writes of the payment side. Every rule of taking and giving back money lives here.

Each service locks the tab first (`orders.services.lock_tab`), then its payment rows: one lock
order everywhere, so payments, notifications and refunds on one tab queue instead of racing or
deadlocking. Gateway calls (start, close, refund) happen outside those transactions, and every
push to a screen goes out after commit.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import controls
from orders import selectors as order_selectors
from orders import services as order_services
from orders.settlement import SettlementParts, TabStatus, build_settlement, read_parts
from restaurant.lib.approvals import Approval
from restaurant.lib.audit import AuditEntry, audit_record
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money, money_str, yuan

from . import conf, providers, realtime
from .coupons import services as coupon_services
from .gateway_rules import (
    CLOSE_CLAIM,
    CODE_EXPIRY,
    CODE_WAIT,
    REVERSING,
    SETTLE_AFTER,
    SETTLE_CLAIM,
    gateway_for_code,
)
from .gateway_rules import refused_logged as _refused
from .members import services as members
from .members import topups
from .models import LedgerEntry, Method, Payment, PaymentEvent, Refund
from .providers.base import (
    GatewayUnknown,
    Notification,
    NotifyIgnored,
    NotifyRefused,
    RefundNotice,
    RefundResult,
)
from .providers.sandbox import cents

logger = logging.getLogger("payments")

SUCCEEDED = Payment.Status.SUCCEEDED
PENDING = Payment.Status.PENDING


# Rules of amounts and reasons (the edges, payments/forms.py and the API's schemas, parse them) -


def _positive(amount: Decimal) -> Decimal:
    """A payment or a refund is of more than nothing."""
    amount = money(amount)
    if amount <= 0:
        raise Refused(Code.BAD_AMOUNT)
    return amount


def _required_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise Refused(Code.REASON_REQUIRED)
    return reason


# Reading the bill -----------------------------------------------------------------------------

FIGURES = ("subtotal", "discount_total", "total", "paid", "refunded", "balance_due")


def figures(settlement: dict[str, Any]) -> dict[str, Decimal]:
    return {name: Decimal(settlement[name]) for name in FIGURES}


def _pending_refunds(tab_id: int) -> Decimal:
    pending = Refund.objects.filter(payment__tab_id=tab_id, status=Refund.Status.PENDING)
    return pending.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def amount_due(tab_id: int) -> tuple[dict[str, Any], Decimal]:
    """What the tab still owes, counting refunds already on their way back as given back."""
    settlement = build_settlement(tab_id)
    return settlement, figures(settlement)["balance_due"] + _pending_refunds(tab_id)


def equal_share(settlement: dict[str, Any], people: int) -> Decimal:
    """AA: the total split in `people`, rounded up to the cent; the last share is what is left."""
    total, due = Decimal(settlement["total"]), Decimal(settlement["balance_due"])
    share = (total / people).quantize(Decimal("0.01"), rounding="ROUND_UP")
    return min(share, due)


# Moves of the state machines ------------------------------------------------------------------


def _locked_payment(payment_id: int) -> tuple[Any, Payment]:
    """The payment with its tab locked first, then itself (the one lock order)."""
    payment = Payment.objects.filter(pk=payment_id).only("tab_id").first()
    if payment is None:
        raise Refused(Code.UNKNOWN_PAYMENT)
    tab = order_services.lock_tab(payment.tab_id)
    return tab, Payment.objects.select_for_update().get(pk=payment_id)


ACCOUNTS: dict[str, str] = {
    Method.CASH: LedgerEntry.Account.CASH,
    Method.CARD: LedgerEntry.Account.CARD,
    Method.QR: LedgerEntry.Account.QR,
    Method.MEMBER: LedgerEntry.Account.MEMBER,
}


def _captured(
    payment: Payment, *, parts: SettlementParts, user: User | None = None, answer: bool = False
) -> None:
    """Money came in: the tab, what follows from a paid bill, then the books. The tab is locked
    and `parts` are its settlement's, read in this transaction, kept true in memory. `answer`:
    the settlement after the payment is the answer's (`payment.settlement`), built before the
    books (they change no part of it) so that the append lock is not held while it is built."""
    _report(payment, parts=parts)
    parts = _after_money_in(parts, user=user)
    if parts.tab.member_ref and payment.method != Method.MEMBER:
        members.points_earn(payment=payment)  # the member's row is locked before the ledger
    if answer:
        payment.settlement = parts.settlement()
    _book(payment, user=user)


def _book(payment: Payment, *, user: User | None = None) -> None:
    """The payment in the ledger, last in its transaction: the ledger's append lock is held
    from here to the commit, and every payment in the restaurant queues behind it (README,
    Performance). Cash books what was tendered in and the change out, so the cash account is
    the drawer's movements; a payment by balance books what is owed to the member down."""
    if payment.method == Method.MEMBER:  # owed to members goes down: it is sales now
        LedgerEntry.append([members.spend_entry(payment, user=user)])
        return
    entry = partial(
        LedgerEntry,
        account=ACCOUNTS[payment.method],
        kind=LedgerEntry.Kind.PAYMENT,
        tab_id=payment.tab_id,
        payment=payment,
        user=user,
    )
    if payment.method == Method.CASH:
        entries = [entry(amount=payment.tendered)]
        if payment.change:
            entries.append(entry(kind=LedgerEntry.Kind.CHANGE, amount=-payment.change))
    else:
        entries = [entry(amount=payment.amount)]
    LedgerEntry.append(entries)


def _report(payment: Payment, *, parts: SettlementParts | None = None) -> None:
    """Tell the ordering side (its TabPayment and the tab's version) and every screen."""
    order_services.record_payment(
        tab_id=payment.tab_id,
        payment=payment.pk,
        method=payment.method,
        amount=payment.amount,
        status=payment.status,
        refunded=payment.refunded,
        parts=parts,
    )
    realtime.push_tab_changed(payment.tab_id)


def _after_money_in(parts: SettlementParts, *, user: User | None = None) -> SettlementParts:
    """A paid bill: refund anything above it, release pay-first orders, settle, close the rest.
    Returns the settlement's parts as they are then."""
    tab_id = parts.tab.pk
    settlement = parts.settlement()
    balance = Decimal(settlement["balance_due"])
    if balance > 0:
        return parts  # still owed (refunds on their way back only add to it): nothing follows
    due = balance + _pending_refunds(tab_id)
    if due < 0:
        _refund_newest_first(
            tab_id,
            -due,
            reason=_("Paid more than the bill: given back automatically"),
            user=None,
        )
        due = Decimal(0)
    if due == 0 and Decimal(settlement["total"]) > 0:
        order_services.orders_release(tab_id=tab_id, user=user)
        status = settlement["status"]
        if settings.SERVICE_FLOW == "pay_later" and status in (
            TabStatus.OPEN,
            TabStatus.SETTLING,
        ):
            order_services.tab_set_status(
                tab_id=tab_id, status=TabStatus.SETTLED, user=user, reason=_("paid")
            )
            parts.tab.refresh_from_db()
        # Other phones' unfinished QR payments are closed at the gateway (after commit).
        for payment_id in Payment.objects.filter(tab_id=tab_id, status=PENDING).values_list(
            "pk", flat=True
        ):
            transaction.on_commit(partial(_close_quietly, payment_id), robust=True)
    return parts


def _close_quietly(payment_id: int) -> None:
    _close_pending(payment_id, Payment.Status.CANCELLED, reason=_("The bill was paid another way"))


# Taking a payment -----------------------------------------------------------------------------


def payment_start(
    *,
    tab_id: int,
    method: str,
    amount: Decimal,
    version: int,
    key: str,
    user: Any = None,
    diner: Any = None,
    scope: str = Payment.Scope.AMOUNT,
    terminal_ref: str = "",
    gateway: str = "",
    context: Any = None,
    auth_code: str = "",
    member: "members.MemberAuth | None" = None,
) -> tuple[Payment, bool]:
    """Take a payment against the settlement `version`. Returns (payment, created).

    Cash and card are recorded as paid at once (cash may be more than is due: the change is
    recorded); a QR payment is started at the gateway and completes with its notification.
    The same `key` again returns the first payment and takes nothing more. `gateway` names
    the QR gateway (the first offered when empty); `context` (providers.base.StartContext)
    tells it who is paying (the phone's user agent picks WeChat's H5 or Native flow).

    `auth_code` (付款码, scanned at the till, 16 to 24 digits): the code's prefix picks the
    gateway, and the payment is taken at once (README, "付款码 at the till").

    `member` (method `member`, paying by balance): the member's code scanned at the till, or
    their mobile / member number and PIN (till or phone). No code, no PIN: refused.
    """
    if auth_code:
        gateway = gateway_for_code(auth_code)
        if method != Method.QR:
            raise Refused(Code.BAD_METHOD)
    provider = providers.for_method(method, gateway)
    if provider is None:
        raise Refused(Code.METHOD_UNAVAILABLE)
    amount = _positive(amount)
    if method == Method.CARD:
        terminal_ref = terminal_ref.strip()
        if not terminal_ref or len(terminal_ref) > 64:
            raise Refused(Code.REFERENCE_REQUIRED)
    payer, member_code = None, ""
    if method == Method.MEMBER:  # before the transaction: a wrong PIN is counted for good
        payer, member_code = members.member_identify(member)
    with transaction.atomic():
        tab = order_services.lock_tab(tab_id)
        existing = Payment.objects.filter(tab=tab, key=key).first()
        if existing is not None:
            if existing.method != method or (gateway and existing.provider != gateway):
                raise Refused(Code.KEY_REUSED)
            payment, created = existing, False
        else:
            payment = _create(tab, provider, method, amount, version, key, user, diner, scope,
                              terminal_ref, by_code=bool(auth_code), payer=payer,
                              member_code=member_code)  # fmt: skip
            created = True
    if auth_code:
        if created:  # never twice: the same key again is the same payment, charged once
            _gateway_code_pay(provider, payment, auth_code)
            payment.settlement = None  # booked since, perhaps: whoever answers reads it again
    elif not provider.immediate and payment.status == PENDING and not payment.code_url:
        _gateway_start(provider, payment, context)
    return payment, created


def _create(
    tab: Any,
    provider: Any,
    method: str,
    amount: Decimal,
    version: int,
    key: str,
    user: Any,
    diner: Any,
    scope: str,
    terminal_ref: str,
    *,
    by_code: bool = False,
    payer: Any = None,
    member_code: str = "",
) -> Payment:
    if tab.status == TabStatus.CLOSED:
        raise Refused(Code.TAB_CLOSED)
    # The bill is read once in the request: the payment is checked against it, changes it in
    # memory (record_payment), and the settlement after it is the answer's (payment.settlement).
    parts = read_parts(tab)
    settlement = parts.settlement()
    if version != tab.version:
        # The bill changed since the client computed its payment: here is the bill as it is now.
        raise Refused(Code.STALE_VERSION, extra={"settlement": settlement})
    due = Decimal(settlement["balance_due"]) + _pending_refunds(tab.pk)
    if due <= 0:
        raise Refused(Code.NOTHING_DUE)
    now = timezone.now()
    tendered, change = None, Decimal(0)
    if method == Method.CASH:
        tendered, amount = amount, min(amount, due)
        change = tendered - amount
    elif amount > due:
        raise Refused(Code.OVER_BALANCE, due=money_str(due), extra={"balance_due": money_str(due)})
    if not provider.immediate:
        _check_pending_limit(tab, amount, due)
    payment = Payment.objects.create(
        tab=tab,
        method=method,
        provider=provider.name,
        status=SUCCEEDED if provider.immediate else PENDING,
        amount=amount,
        tendered=tendered,
        change=change,
        version=version,
        key=key,
        terminal_ref=terminal_ref,
        scope=scope,
        diner=diner,
        user=user if user is not None and user.is_authenticated else None,
        expires_at=None
        if provider.immediate
        else now + (CODE_EXPIRY if by_code else timedelta(minutes=conf.payment_expiry_minutes())),
        by_code=by_code,
        completed_at=now if provider.immediate else None,
    )
    PaymentEvent.objects.create(payment=payment, to_status=payment.status, user=payment.user)
    if method == Method.MEMBER:
        members.balance_spend(payment=payment, member=payer, code=member_code)
    if provider.immediate:
        _captured(payment, parts=parts, user=payment.user, answer=True)
    else:
        realtime.push_tab_changed(tab.pk)
        payment.settlement = parts.settlement()
    return payment


def _check_pending_limit(tab: Any, amount: Decimal, due: Decimal) -> None:
    """A few QR payments under way at once (a table splitting its bill), and together never
    more than is due: a hundred pending payments on one bill, or two phones each starting the
    whole bill, are refused (README, "Limits"). A payment past its expiry no longer counts (it
    reads as expired; the worker closes it at the gateway), nor does a 付款码 payment being
    reversed (REVERSING): it can never be booked as paid, so the till may scan again at once.
    The tab is locked."""
    under_way = Payment.objects.filter(tab=tab).under_way().exclude(by_code=True, failure=REVERSING)
    if under_way.count() >= settings.MAX_PENDING_PAYMENTS:
        order_services.limit_reached(tab, Code.TOO_MANY_PAYMENTS, n=settings.MAX_PENDING_PAYMENTS)
    started = under_way.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if started + amount > due:
        startable = max(due - started, Decimal(0))
        order_services.limit_reached(
            tab,
            Code.PAYMENTS_OVER_DUE,
            under_way=yuan(started),
            startable=yuan(startable),
            extra={"under_way": money_str(started), "startable": money_str(startable)},
        )


def _gateway_start(provider: Any, payment: Payment, context: Any = None) -> None:
    """Ask the gateway for a charge, outside our transactions. A gateway that fails fails it.

    A start that timed out fails too: the payer never got a code or a page, so nothing can be
    paid; if the charge was made at the gateway, the expiry job's close finds it (or finds
    nothing) and a success can only come from a code nobody has.
    """
    try:
        code_url = provider.start(payment, context=context)
    except Exception as error:  # the network edge: whatever the gateway does, say so
        logger.exception("payments: %s could not start %s", provider.name, payment.reference)
        if isinstance(error, GatewayUnknown) and _close_after_unknown_start(provider, payment):
            return  # the gateway says the charge it made is paid: the query will book it
        with transaction.atomic():
            tab, locked = _locked_payment(payment.pk)
            if locked.status == PENDING:
                locked.transition(
                    Payment.Status.FAILED,
                    reason=_("The gateway did not answer"),
                    failure=str(error)[:200],
                )
                realtime.push_tab_changed(tab.pk)
        payment.refresh_from_db()
        return
    Payment.objects.filter(pk=payment.pk, code_url="").update(code_url=code_url)
    payment.code_url = code_url


# 付款码 at the till ---------------------------------------------------------------------------


def _gateway_code_pay(provider: Any, payment: Payment, auth_code: str) -> None:
    """Take the money with the payer's code, outside our transactions. Paid: booked now;
    refused: failed with the gateway's reason; the payer still confirming, or no answer: the
    payment stays pending and the worker's settle job asks with back-off, then reverses."""
    try:
        state = provider.code_pay(payment, auth_code)
    except GatewayUnknown as error:
        # As the gateways ask: reverse at once, so that nothing is taken without our record
        # (a reverse gives back money the gateway took); the till says so and scans again.
        # Should the reverse not answer either, the payment stays pending for the settle job.
        logger.warning("payments: 付款码 %s: %s; reversing", payment.reference, error)
        reversed_ = _close_pending(
            payment.pk,
            Payment.Status.CANCELLED,
            reason=_("The payment service did not answer: nothing was taken"),
        )
        if reversed_ is None:
            # A reverse is under way: from now on only a reverse settles it (a success seen
            # meanwhile is money the reverse gives back), and the till says why it waits.
            Payment.objects.filter(pk=payment.pk, status=PENDING).update(failure=REVERSING)
    else:
        _apply_state(provider, payment, state)
    payment.refresh_from_db()


def _apply_state(provider: Any, payment: Payment, state: Any) -> bool:
    """Book what a gateway's answer or query says of a payment, once. True if it changed."""
    if state.paid is None:
        return False
    note = Notification(
        out_trade_no=payment.reference,
        transaction_id=state.transaction_id,
        succeeded=bool(state.paid),
        amount_cents=state.amount_cents if state.paid else cents(payment.amount),
        currency=state.currency if state.paid else settings.CURRENCY,
        reason=state.reason,
    )
    try:
        _payment, changed = _payment_news(provider, note, b"(gateway answer)")
    except NotifyRefused:
        return False
    return changed


def payment_ask_gateway(*, payment_id: int) -> bool:
    """Ask a QR payment's gateway what became of it and book the answer once (reconciliation
    found it paid on the gateway's bill). True when it was booked now. An expired or cancelled
    payment the gateway says is paid is a late success: recorded, then given back in full.
    Raises GatewayUnknown when the gateway does not answer. Call with no transaction open."""
    payment = Payment.objects.get(pk=payment_id)
    provider = providers.by_name(payment.provider)
    if payment.status == SUCCEEDED or not hasattr(provider, "query"):
        return False
    return _apply_state(provider, payment, provider.query(payment))


def _settle_code_payment(provider: Any, payment: Payment, now: datetime) -> bool:
    """A 付款码 payment the payer is still confirming: ask; past CODE_WAIT, reverse it. One
    whose reverse is under way (REVERSING) is only reversed again."""
    if payment.failure != REVERSING:
        try:
            state = provider.query(payment)
        except GatewayUnknown as error:
            logger.info("payments: query of 付款码 %s: %s", payment.reference, error)
            state = None
        if state is not None and _apply_state(provider, payment, state):
            return True
        if now - payment.created_at < CODE_WAIT:
            return False
    return bool(
        _close_pending(
            payment.pk,
            Payment.Status.CANCELLED,
            reason=_("The payer did not confirm in time: reversed at the gateway"),
        )
    )


def _code_claim(payment: Payment, now: datetime) -> timedelta:
    """Back-off of the queries of a 付款码 payment: every 2 s at first, then 5, then 10."""
    age = now - payment.created_at
    if age < timedelta(seconds=10):
        return timedelta(seconds=2)
    return timedelta(seconds=5) if age < timedelta(seconds=30) else timedelta(seconds=10)


def _close_after_unknown_start(provider: Any, payment: Payment) -> bool:
    """A start that timed out may have made a charge at the gateway, with a code nobody got:
    close it there, so that it can never be paid. True only when the gateway says the charge
    is paid (the payment then stays pending for the query to book); a close that does not get
    through either leaves a charge nobody has the code of."""
    try:
        closed = provider.close(payment)
    except GatewayUnknown as error:
        logger.warning("payments: closing %s after its start: %s", payment.reference, error)
        return False
    if not closed:
        logger.error("payments: %s was paid though its start timed out", payment.reference)
    return not closed


def payment_notify(
    *, provider_name: str, headers: Mapping[str, str], body: bytes
) -> tuple[Any, bool]:
    """A gateway's notification. Returns (payment, changed); a replay changes nothing.
    A genuine notification that says nothing to act on (Alipay's WAIT_BUYER_PAY): (None, False).
    A member's top-up by WeChat Pay or Alipay shares the notify URL: its notifications go to
    `members.topups` (then the top-up is returned in place of the payment).

    Raises NotifyRefused (and logs why) for anything forged, unsigned, stale, for an unknown
    payment or the wrong amount; nothing is changed then.
    """
    provider = providers.gateway(provider_name)
    if provider is None:
        raise _refused(NotifyRefused("unavailable", "No such gateway here.", 404), body)
    try:
        note = provider.verify(headers, body)
    except NotifyRefused as refused:
        raise _refused(refused, body) from None
    except NotifyIgnored:
        return None, False
    if isinstance(note, RefundNotice):
        if topups.is_top_up(note.ours[0]):
            return topups.refund_notified(provider=provider, notice=note, body=body)
        return refund_notified(provider=provider, notice=note, body=body)
    if topups.is_top_up(note.out_trade_no):
        return topups.top_up_news(provider=provider, note=note, body=body)
    return _payment_news(provider, note, body)


def _payment_news(provider: Any, note: Any, body: bytes) -> tuple[Payment, bool]:
    """Apply a checked notification (or the query API's answer) to its payment, once."""
    payment = Payment.objects.filter(reference=note.out_trade_no, provider=provider.name).first()
    if payment is None:
        raise _refused(NotifyRefused("unknown_payment", "No such payment.", 404), body)
    if note.currency != settings.CURRENCY or note.amount_cents != cents(payment.amount):
        raise _refused(
            NotifyRefused("wrong_amount", "The amount is not the payment's amount."), body
        )
    with transaction.atomic():
        tab, payment = _locked_payment(payment.pk)
        if not note.succeeded:
            if payment.status != PENDING:
                return payment, False  # a replay, or news older than what we know
            payment.transition(
                Payment.Status.FAILED,
                reason=_("The gateway says it failed"),
                failure=note.reason or _("Declined"),
                completed_at=timezone.now(),
            )
            realtime.push_tab_changed(payment.tab_id)
            return payment, True
        if payment.by_code and payment.failure == REVERSING and payment.status == PENDING:
            return payment, False  # being reversed: the gateway gives this money back
        if payment.status == SUCCEEDED:
            if payment.gateway_txn == note.transaction_id:
                return payment, False  # the same notification again
            raise _refused(
                NotifyRefused("conflict", "The payment is paid under another transaction.", 409),
                body,
            )
        if not payment.can_move_to(SUCCEEDED):
            raise _refused(
                NotifyRefused("conflict", f"The payment is {payment.status}.", 409), body
            )
        if Payment.objects.filter(gateway_txn=note.transaction_id).exists():
            raise _refused(
                NotifyRefused("conflict", "This transaction paid another payment.", 409), body
            )
        late = payment.status != PENDING
        payment.transition(
            SUCCEEDED,
            reason=_("The gateway took the money after all") if late else _("Paid"),
            gateway_txn=note.transaction_id,
            completed_at=timezone.now(),
        )
        _captured(payment, parts=read_parts(tab))
        if late:
            # The phone was told this payment timed out or was given up, so the diner paid (or
            # will pay) another way: money that arrives afterwards goes back in full.
            left = payment.amount - _refunding(payment)
            if left > 0:
                _refund_open(
                    payment,
                    left,
                    reason=_("Paid after the payment had timed out: given back automatically"),
                    automatic=True,
                )
    return payment, True


def _close_pending(
    payment_id: int, new: str, *, reason: str, user: User | None = None
) -> bool | None:
    """Close an unfinished payment at its gateway, then mark it `new` (expired or cancelled).

    False when the gateway says it was paid: its notification will complete it. None when the
    gateway did not answer (time-out): the payment stays pending.
    """
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or payment.status != PENDING:
        return False
    provider = providers.by_name(payment.provider)
    if not provider.immediate:
        logger.info("payments: closing %s at %s", payment.reference, provider.name)
        try:
            closed = provider.close(payment)
        except GatewayUnknown as error:
            # Unknown, not failed: the payment stays pending; the next try (the worker's next
            # round once the claim runs out, or the payer's next cancel) asks again.
            logger.warning("payments: closing %s: %s", payment.reference, error)
            return None
        if not closed:
            return False
    with transaction.atomic():
        _tab, payment = _locked_payment(payment_id)
        if payment.status != PENDING:
            return False
        payment.transition(new, user=user, reason=reason, completed_at=timezone.now())
        realtime.push_tab_changed(payment.tab_id)
    return True


def payment_cancel(
    *, payment_id: int, tab_id: int | None = None, user: User | None = None
) -> Payment:
    """The diner gives up a QR payment (or the cashier does): closed at the gateway first."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or (tab_id is not None and payment.tab_id != tab_id):
        raise Refused(Code.UNKNOWN_PAYMENT)
    closed = None
    if payment.status == PENDING:
        closed = _close_pending(
            payment_id, Payment.Status.CANCELLED, reason=_("Given up"), user=user
        )
        if closed is None:
            raise Refused(Code.GATEWAY_UNAVAILABLE)
    if payment.status == PENDING and not closed:
        payment.refresh_from_db()
        if payment.status == PENDING:
            raise Refused(Code.ALREADY_PAID)
    payment.refresh_from_db()
    return payment


def payments_expire_due(*, now: datetime | None = None, tab_id: int | None = None) -> int:
    """QR payments not completed in time are closed at the gateway first, then marked expired;
    pay-first orders not paid in time give their stock back. Returns how many payments expired.

    The worker runs this (`manage.py worker`), and a POST that starts a payment runs it for its
    own tab; never a read. Safe in several processes at once: a payment is claimed by
    compare-and-set before its gateway is called (with no transaction open and no row locked),
    and an order expires under its tab's lock.
    """
    now = now or timezone.now()
    due = Payment.objects.overdue(now)
    if tab_id is not None:
        due = due.filter(tab_id=tab_id)
    expired = 0
    for payment_id in due.values_list("pk", flat=True):
        if _claim_close(payment_id, now):
            expired += bool(
                _close_pending(
                    payment_id, Payment.Status.EXPIRED, reason=_("Not completed in time")
                )
            )
    for expired_tab in order_services.orders_expire_unpaid(now=now, tab_id=tab_id):
        realtime.push_tab_changed(expired_tab)
    if tab_id is None:  # the worker: members' QR top-ups not paid in time, too
        expired += topups.top_ups_expire_due(now=now)
    return expired


def _claim_close(payment_id: int, now: datetime) -> bool:
    """Only the process whose compare-and-set wins closes the payment, until its claim runs
    out (a gateway that says "paid" leaves the claim to run out: the next try asks again)."""
    unclaimed = Q(closing_until__isnull=True) | Q(closing_until__lt=now)
    claimed = (
        Payment.objects.overdue(now)
        .filter(unclaimed, pk=payment_id)
        .update(closing_until=now + CLOSE_CLAIM)
    )
    return claimed == 1


# Refunds --------------------------------------------------------------------------------------


def _refunding(payment: Payment) -> Decimal:
    pending = payment.refunds.filter(status=Refund.Status.PENDING)
    return payment.refunded + (pending.aggregate(total=Sum("amount"))["total"] or Decimal(0))


def _refund_open(
    payment: Payment,
    amount: Decimal,
    *,
    reason: str,
    user: User | None = None,
    key: str | None = None,
    automatic: bool = False,
) -> Refund:
    refund = Refund.objects.create(
        payment=payment, amount=amount, reason=reason, user=user, key=key, automatic=automatic
    )
    PaymentEvent.objects.create(
        payment=payment, refund=refund, to_status=refund.status, user=user, reason=reason
    )
    audit_record(
        kind=AuditEntry.Kind.REFUND,
        user=user,
        table=order_selectors.tab_with_table(payment.tab_id).table.code,
        subject=f"{payment.provider} #{payment.pk}",
        amount=amount,
        reason=reason,
        detail={"tab": payment.tab_id, "payment": payment.pk, "refund": refund.pk,
                "automatic": automatic},
    )  # fmt: skip
    transaction.on_commit(lambda: refund_execute(refund_id=refund.pk), robust=True)
    return refund


def _refund_newest_first(
    tab_id: int, amount: Decimal, *, reason: str, user: User | None = None
) -> list[Refund]:
    """Give `amount` back over the tab's payments, newest first. The tab is locked."""
    refunds = []
    for payment in (
        Payment.objects.select_for_update()
        .filter(tab_id=tab_id, status=SUCCEEDED)
        .order_by("-created_at", "-id")
    ):
        if amount <= 0:
            break
        take = min(amount, payment.amount - _refunding(payment))
        if take > 0:
            refunds.append(_refund_open(payment, take, reason=reason, user=user, automatic=True))
            amount -= take
    return refunds


def refund_create(
    *,
    payment_id: int,
    amount: Decimal,
    reason: str,
    user: User | None = None,
    key: str | None = None,
    approval: Approval | None = None,
) -> Refund:
    """Give back part or all of a paid payment, with a reason. Same key again: the same refund.

    Refunds by hand on one bill above CASHIER_REFUND_LIMIT in all need a manager's approval
    (orders/controls.py says why in all; automatic refunds follow an approved void or discount).
    """
    amount = _positive(amount)
    reason = _required_reason(reason)
    payment = Payment.objects.filter(pk=payment_id).only("tab_id").first()
    if payment is None:
        raise Refused(Code.UNKNOWN_PAYMENT)
    with (
        controls.refusals_recorded(
            tab_id=payment.tab_id, action="refund", user=user, approval=approval
        ),
        transaction.atomic(),
    ):
        _tab, payment = _locked_payment(payment_id)
        if key is not None:
            existing = Refund.objects.filter(payment=payment, key=key).first()
            if existing:
                return existing
        if payment.status != SUCCEEDED:
            raise Refused(Code.NOT_PAID)
        left = payment.amount - _refunding(payment)
        if amount > left:
            raise Refused(
                Code.OVER_REFUND, left=money_str(left), extra={"refundable": money_str(left)}
            )
        approver = _refund_approver(payment.tab_id, amount, user, approval)
        refund = _refund_open(payment, amount, reason=reason, user=user, key=key)
        if approver is not None:
            controls.record_approval(
                tab_id=payment.tab_id, kind="refund", user=user, approved_by=approver,
                reason=f"{money_str(amount)} #{payment.pk}: {reason}",
            )  # fmt: skip
    refund.refresh_from_db()
    return refund


def _refund_approver(
    tab_id: int, amount: Decimal, user: User | None, approval: Approval | None
) -> User | None:
    """Refunds by hand on the bill (this one too) above the limit: the approving manager."""
    if controls.is_manager(user):
        return None
    given = Refund.objects.filter(payment__tab_id=tab_id, automatic=False).exclude(
        status=Refund.Status.FAILED
    )
    total = (given.aggregate(total=Sum("amount"))["total"] or Decimal(0)) + amount
    limit = money(settings.CASHIER_REFUND_LIMIT)
    if total <= limit:
        return None
    needed = Refused(
        Code.REFUND_NEEDS_MANAGER,
        refunds=yuan(total),
        limit=yuan(limit),
        extra={"refunds": money_str(total), "limit": money_str(limit)},
    )
    return (approval or Approval()).manager(user, needed)


def refund_execute(*, refund_id: int) -> Refund | None:
    """Give the money back through the payment's provider, then book it (after commit).

    A gateway that accepts the refund but is still processing it, or does not answer, leaves
    it pending: its refund notification or the refund query (the worker) settles it.
    """
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.PENDING:
        return refund
    try:
        result = providers.by_name(refund.payment.provider).refund(refund)
    except GatewayUnknown as error:
        logger.warning("payments: refund %s is unknown for now: %s", refund.pk, error)
        return refund
    return _refund_apply(refund_id, result)


def _refund_apply(refund_id: int, result: RefundResult) -> Refund:
    """Book what the gateway said of a refund, once: the refund is locked, still pending."""
    payment_id = Refund.objects.filter(pk=refund_id).values_list("payment_id", flat=True).get()
    with transaction.atomic():
        _tab, payment = _locked_payment(payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        if result.ok is None:
            if result.gateway_refund and not refund.gateway_refund:
                refund.gateway_refund = result.gateway_refund
                refund.save(update_fields=["gateway_refund"])
            return refund
        if result.ok:
            refund.transition(
                Refund.Status.SUCCEEDED,
                user=refund.user,
                gateway_refund=result.gateway_refund or refund.gateway_refund,
                completed_at=timezone.now(),
            )
            payment.refunded += refund.amount
            payment.save(update_fields=["refunded"])
        else:
            refund.transition(
                Refund.Status.FAILED,
                user=refund.user,
                reason=result.failure,
                failure=result.failure[:200],
                completed_at=timezone.now(),
            )
        _report(payment)
        if not result.ok:
            return refund
        # A refund that leaves the bill wholly refunded gives its coupons and points back
        # (once: a void racing it queues on the tab's lock and finds them given back).
        coupon_services.coupons_give_back(tab_id=payment.tab_id)
        members.points_give_back(tab_id=payment.tab_id, user=refund.user)
        # The books last: the ledger's append lock is held until the commit.
        if payment.method == Method.MEMBER:
            members.balance_refund(payment=payment, refund=refund)
        else:
            members.points_refunded(payment=payment, refund=refund)
            entry = LedgerEntry(
                account=ACCOUNTS[payment.method],
                kind=LedgerEntry.Kind.REFUND,
                amount=-refund.amount,
                tab_id=payment.tab_id,
                payment=payment,
                refund=refund,
                user=refund.user,
                note=refund.reason,
            )
            LedgerEntry.append([entry])
    return refund


def refund_notified(*, provider: Any, notice: RefundNotice, body: bytes) -> tuple[Payment, bool]:
    """A gateway's refund notification: the refund it names is booked, once."""
    reference, refund_id = notice.ours
    refund = (
        Refund.objects.select_related("payment")
        .filter(
            pk=refund_id,
            payment__reference=reference,
            payment__provider=provider.name,
        )
        .first()
    )
    if refund is None or refund.payment.reference != notice.out_trade_no:
        raise _refused(NotifyRefused("unknown_refund", "No such refund.", 404), body)
    if notice.amount_cents != cents(refund.amount):
        raise _refused(NotifyRefused("wrong_amount", "The amount is not the refund's."), body)
    if refund.gateway_refund and refund.gateway_refund != notice.gateway_refund:
        raise _refused(NotifyRefused("conflict", "Another gateway refund id.", 409), body)
    was = refund.status
    result = RefundResult(
        ok=notice.succeeded, gateway_refund=notice.gateway_refund, failure=notice.failure
    )
    refund = _refund_apply(refund.pk, result)
    return refund.payment, refund.status != was


def gateways_settle(*, now: datetime | None = None) -> int:
    """What a time-out left unknown, settled by the gateways' query APIs (the worker's job).

    - QR payments pending for more than SETTLE_AFTER: the query says paid (booked as its
      notification would be, once), failed (declined on the phone: the real gateways notify
      no failure), or still open (nothing changes). Each payment is claimed by compare-and-set
      for SETTLE_CLAIM, so several workers ask once and a payment is asked at most that often.
    - 付款码 payments the payer is still confirming: asked at once and then with back-off
      (2 s, 5 s, 10 s claims); past CODE_WAIT reversed at the gateway and cancelled.
    - Refunds pending for more than SETTLE_AFTER: the refund query settles them; one the
      gateway never received is sent again under the same refund number (idempotent there).
    Calls the gateways with no transaction open and no row locked. Returns how many changed.
    """
    now = now or timezone.now()
    changed = 0
    # Overdue ones too, once the expiry job has tried to close them (a close the gateway refused
    # as paid, or that did not get through, waits for news). An overdue payment the expiry job
    # has not reached yet is its own: a query's claim would hold its expiry up.
    asking = (
        Payment.objects.filter(status=PENDING, method=Method.QR)
        .filter(Q(by_code=True) | Q(created_at__lt=now - SETTLE_AFTER))
        .filter(Q(by_code=True) | Q(expires_at__gte=now) | Q(closing_until__isnull=False))
    )
    for payment in asking:
        provider = providers.by_name(payment.provider)
        claim = _code_claim(payment, now) if payment.by_code else SETTLE_CLAIM
        if not hasattr(provider, "query") or not _claim_query(payment.pk, now, claim):
            continue
        if payment.by_code:
            changed += _settle_code_payment(provider, payment, now)
            continue
        try:
            state = provider.query(payment)
        except GatewayUnknown as error:
            logger.info("payments: query of %s: %s", payment.reference, error)
            continue
        changed += _apply_state(provider, payment, state)
    pending = Refund.objects.filter(
        status=Refund.Status.PENDING, created_at__lt=now - SETTLE_AFTER
    ).select_related("payment")
    for refund in pending.exclude(payment__provider__in=("cash", "card", "member")):
        provider = providers.by_name(refund.payment.provider)
        try:
            result = provider.query_refund(refund)
            if result is None:
                result = provider.refund(refund)
        except GatewayUnknown as error:
            logger.info("payments: refund query of %s: %s", refund.pk, error)
            continue
        changed += _refund_apply(refund.pk, result).status != Refund.Status.PENDING
    return changed + topups.top_ups_settle(now=now)


def _claim_query(payment_id: int, now: datetime, claim: timedelta | None = None) -> bool:
    """Compare-and-set on `closing_until`: one worker asks the gateway about a payment, and
    asks again only after the claim runs out (the expiry job uses the same claim)."""
    unclaimed = Q(closing_until__isnull=True) | Q(closing_until__lt=now)
    claimed = Payment.objects.filter(unclaimed, pk=payment_id, status=PENDING).update(
        closing_until=now + (claim or SETTLE_CLAIM)
    )
    return claimed == 1


def refund_overpayment(
    *, tab_id: int, reason: str | None = None, user: User | None = None
) -> list[Refund]:
    """退菜 or a discount on a paid tab: whatever was paid above the new total goes back."""
    with transaction.atomic():
        tab = order_services.lock_tab(tab_id)
        _settlement, due = amount_due(tab.pk)
        refunds = []
        if due < 0:
            refunds = _refund_newest_first(
                tab.pk,
                -due,
                reason=reason or _("The bill went down: the difference is given back"),
                user=user,
            )
        realtime.push_tab_changed(tab.pk)
    return refunds


# The bill: discounts, asking for it, closing the table ----------------------------------------


def line_discount(
    *,
    line_id: int,
    amount: Decimal,
    reason: str,
    user: User | None,
    approval: Approval | None = None,
) -> Any:
    """The bill's discounts together stay within a cashier's limit unless a manager approves."""
    tab = order_services.line_discount_set(
        line_id=line_id, amount=amount, reason=reason, user=user, approval=approval
    )
    realtime.push_tab_changed(tab.pk)
    return tab


def tab_discount(
    *,
    tab_id: int,
    amount: Decimal,
    reason: str,
    user: User | None,
    approval: Approval | None = None,
) -> Any:
    """The bill's discounts together stay within a cashier's limit unless a manager approves."""
    tab = order_services.tab_discount_set(
        tab_id=tab_id, amount=amount, reason=reason, user=user, approval=approval
    )
    realtime.push_tab_changed(tab.pk)
    return tab


def pay_at_counter(*, tab_id: int, diner: Any = None) -> Any:
    tab = order_services.bill_request(tab_id=tab_id, diner=diner)
    realtime.push_tab_changed(tab.pk)
    return tab


def tab_close(*, tab_id: int, user: User | None = None, rotate_token: bool = False) -> Any:
    """Free the table. Refused while money is owed, a payment is unfinished or a refund pending."""
    payments_expire_due(tab_id=tab_id)  # an overdue payment is closed at its gateway first
    with transaction.atomic():
        tab = order_services.lock_tab(tab_id)
        if tab.status == TabStatus.CLOSED:
            raise Refused(Code.TAB_CLOSED)
        if Payment.objects.filter(tab=tab, status=PENDING).exists():
            raise Refused(Code.PAYMENT_PENDING)
        if Refund.objects.filter(payment__tab=tab, status=Refund.Status.PENDING).exists():
            raise Refused(Code.REFUND_PENDING)
        _settlement, due = amount_due(tab.pk)
        if due > 0:
            raise Refused(
                Code.BALANCE_DUE, due=money_str(due), extra={"balance_due": money_str(due)}
            )
        tab = order_services.tab_close(tab_id=tab.pk, user=user, rotate_token=rotate_token)
        realtime.push_tab_changed(tab.pk)
    return tab


def tab_reopen(*, tab_id: int, user: User | None = None) -> Any:
    """A settled tab orders again (a dessert after paying): it will owe the difference."""
    tab = order_services.tab_set_status(
        tab_id=tab_id, status=TabStatus.OPEN, user=user, reason=_("reopened")
    )
    realtime.push_tab_changed(tab.pk)
    return tab
