"""Top-ups by WeChat Pay and Alipay (储值 through the gateways): started at the till by scanning
the member's 付款码 or by showing a QR code, credited once when the gateway confirms, given
back through the gateway's refund API (payments/README.md, "Members": "Top-ups by WeChat Pay
and Alipay").

The same providers, rules and worker jobs as a bill's QR payment (`payments.services`): a
start that fails fails the top-up; a 付款码 the payer is still confirming is asked with
back-off and reversed after CODE_WAIT; a QR code not paid in time is closed at the gateway and
expires; whatever comes first, the notification or the query, is applied once; a gateway that
does not answer leaves things pending, never failed. A top-up is not a bill's payment: it has
no tab, it is not sales, and its money goes to the wallet (principal and bonus) and to the
ledger's `qr` and `member` accounts.

Locks: the member row, then the top-up row (then its refund row), then the ledger last, the
members' one order (members.services), so a credit, a spend and a refund of one wallet queue.
Gateway calls happen with no transaction open and no row locked.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money

from .. import conf, providers
from .. import gateway_rules as rules
from ..models import LedgerEntry
from ..providers.base import (
    GatewayUnknown,
    Notification,
    NotifyRefused,
    RefundNotice,
    RefundResult,
)
from ..providers.sandbox import cents
from . import services as members
from .models import Member, Move, TopUp, TopUpEvent, TopUpRefund, new_top_up_reference

logger = logging.getLogger("payments")

PENDING = TopUp.Status.PENDING
SUCCEEDED = TopUp.Status.SUCCEEDED


def is_top_up(reference: str) -> bool:
    """Is this merchant order number one of our gateway top-ups (not a bill's payment)?"""
    return TopUp.objects.filter(reference=reference).exists()


def _locked(top_up_id: int) -> tuple[Member, TopUp]:
    """The member locked first, then the top-up (the one lock order)."""
    member_id = TopUp.objects.filter(pk=top_up_id).values_list("member_id", flat=True).first()
    if member_id is None:
        raise Refused(Code.UNKNOWN_TOP_UP)
    member = members.lock_member(member_id)
    return member, TopUp.objects.select_for_update().get(pk=top_up_id)


# Starting -------------------------------------------------------------------------------------


def top_up_start(
    *,
    member_id: int,
    amount: Decimal,
    key: str,
    user: Any = None,
    gateway: str = "",
    auth_code: str = "",
) -> tuple[TopUp, bool]:
    """储值 by WeChat Pay or Alipay at the till. `auth_code` (the member's 付款码, scanned):
    its prefix picks the gateway and the money is taken at once (or the payer confirms on the
    phone). Without it: a QR code of `gateway` (the first offered when empty) for the member to
    scan. Pending until the gateway confirms; then principal and the bonus rule's bonus are
    credited, once. The same key again is the same top-up, charged once. Returns (top-up,
    created)."""
    if amount <= 0 or amount != money(amount):
        raise Refused(Code.BAD_AMOUNT)
    key = members._key(key)
    if auth_code:
        gateway = rules.gateway_for_code(auth_code)
    provider = providers.gateway(gateway)
    if provider is None:
        raise Refused(Code.METHOD_UNAVAILABLE)
    staff = members._staff(user)
    wait = rules.CODE_EXPIRY if auth_code else timedelta(minutes=conf.payment_expiry_minutes())
    with transaction.atomic():
        member = members.lock_member(member_id)
        existing = TopUp.objects.filter(member=member, key=key).first()
        if existing is not None:
            if not existing.by_gateway or existing.provider != provider.name:
                raise Refused(Code.KEY_REUSED)
            return existing, False
        members._usable(member)
        members.card_has_room(member, principal=amount, bonus=members.bonus_for(amount))
        top_up = TopUp.objects.create(
            member=member, method=TopUp.Method.QR, provider=provider.name, status=PENDING,
            amount=amount, bonus=members.bonus_for(amount), key=key,
            reference=new_top_up_reference(), by_code=bool(auth_code),
            expires_at=timezone.now() + wait, user=staff,
        )  # fmt: skip
        TopUpEvent.objects.create(top_up=top_up, to_status=PENDING, user=staff)
    if auth_code:
        _code_pay(provider, top_up, auth_code)
    else:
        _start(provider, top_up)
    return top_up, True


def _start(provider: Any, top_up: TopUp) -> None:
    """Ask the gateway for a QR code (Native / precreate: the till's screen shows it). A start
    that fails fails the top-up; one that timed out too, after closing whatever charge it may
    have made (a code nobody was shown cannot be paid)."""
    try:
        code_url = provider.start(top_up, context=None)
    except Exception as error:  # the network edge: whatever the gateway does, say so
        logger.exception("payments: %s could not start top-up %s", provider.name, top_up.reference)
        if isinstance(error, GatewayUnknown) and _paid_after_unknown_start(provider, top_up):
            return  # the gateway says the charge is paid: the query will credit it
        with transaction.atomic():
            _member, locked = _locked(top_up.pk)
            if locked.is_pending:
                locked.transition(
                    TopUp.Status.FAILED,
                    reason=_("The gateway did not answer"),
                    failure=str(error)[:200],
                    completed_at=timezone.now(),
                )
        top_up.refresh_from_db()
        return
    TopUp.objects.filter(pk=top_up.pk, code_url="").update(code_url=code_url)
    top_up.code_url = code_url


def _paid_after_unknown_start(provider: Any, top_up: TopUp) -> bool:
    try:
        closed = provider.close(top_up)
    except GatewayUnknown as error:
        logger.warning("payments: closing top-up %s after its start: %s", top_up.reference, error)
        return False
    return not closed


def _code_pay(provider: Any, top_up: TopUp, auth_code: str) -> None:
    """Take the money with the member's 付款码, outside our transactions, as a bill's 付款码
    (payments/README.md, "付款码 at the till"): paid, credited now; refused, failed; the payer
    confirming, pending for the settle job; no answer, reversed at once."""
    try:
        state = provider.code_pay(top_up, auth_code)
    except GatewayUnknown as error:
        logger.warning("payments: 付款码 top-up %s: %s; reversing", top_up.reference, error)
        reversed_ = _close_pending(
            top_up.pk,
            TopUp.Status.CANCELLED,
            reason=_("The payment service did not answer: nothing was taken"),
        )
        if reversed_ is None:  # only a reverse settles it from now on
            TopUp.objects.filter(pk=top_up.pk, status=PENDING).update(failure=rules.REVERSING)
    else:
        _apply_state(provider, top_up, state)
    top_up.refresh_from_db()


# The gateway's word ---------------------------------------------------------------------------


def _apply_state(provider: Any, top_up: TopUp, state: Any) -> bool:
    """Apply what a gateway's answer or query says of a top-up, once. True if it changed."""
    if state.paid is None:
        return False
    note = Notification(
        out_trade_no=top_up.reference or "",
        transaction_id=state.transaction_id,
        succeeded=bool(state.paid),
        amount_cents=state.amount_cents if state.paid else cents(top_up.amount),
        currency=state.currency if state.paid else settings.CURRENCY,
        reason=state.reason,
    )
    try:
        _top_up, changed = top_up_news(provider=provider, note=note, body=b"(gateway answer)")
    except NotifyRefused:
        return False
    return changed


def top_up_news(*, provider: Any, note: Notification, body: bytes) -> tuple[TopUp, bool]:
    """A checked notification (or the query's answer) of a top-up, applied once: paid, the
    wallet is credited (principal and bonus) and the ledger books it; failed, nothing is. A
    replay, or news older than what we know, changes nothing. Paid after it expired or was
    cancelled (the till was told it timed out): credited, then given back in full at once
    through the gateway, as a bill's late payment is. Raises NotifyRefused (logged)."""
    top_up = TopUp.objects.filter(reference=note.out_trade_no, provider=provider.name).first()
    if top_up is None:
        raise rules.refused_logged(NotifyRefused("unknown_payment", "No such payment.", 404), body)
    if note.currency != settings.CURRENCY or note.amount_cents != cents(top_up.amount):
        raise rules.refused_logged(
            NotifyRefused("wrong_amount", "The amount is not the payment's amount."), body
        )
    with transaction.atomic():
        member, top_up = _locked(top_up.pk)
        if not note.succeeded:
            if not top_up.is_pending:
                return top_up, False
            top_up.transition(
                TopUp.Status.FAILED,
                reason=_("The gateway says it failed"),
                failure=note.reason or _("Declined"),
                completed_at=timezone.now(),
            )
            return top_up, True
        if top_up.by_code and top_up.failure == rules.REVERSING and top_up.is_pending:
            return top_up, False  # being reversed: the gateway gives this money back
        if top_up.is_paid:
            if top_up.gateway_txn == note.transaction_id:
                return top_up, False  # the same notification again
            raise rules.refused_logged(
                NotifyRefused("conflict", "The payment is paid under another transaction.", 409),
                body,
            )
        if not top_up.can_move_to(SUCCEEDED):
            raise rules.refused_logged(
                NotifyRefused("conflict", f"The payment is {top_up.status}.", 409), body
            )
        if TopUp.objects.filter(gateway_txn=note.transaction_id).exists():
            raise rules.refused_logged(
                NotifyRefused("conflict", "This transaction paid another payment.", 409), body
            )
        late = not top_up.is_pending
        top_up.transition(
            SUCCEEDED,
            reason=_("The gateway took the money after all") if late else _("Paid"),
            gateway_txn=note.transaction_id,
            completed_at=timezone.now(),
        )
        entries = members.paid_in(member, top_up, user=top_up.user)
        if late:
            _refund, given_back = refund_open(
                member,
                top_up,
                top_up.amount,
                reason=_("Paid after the top-up had timed out: given back automatically"),
                user=None,
                automatic=True,
            )
            entries += given_back
        LedgerEntry.append(entries)  # last: the ledger's append lock is held until the commit
    return top_up, True


def _close_pending(top_up_id: int, new: str, *, reason: str, user: Any = None) -> bool | None:
    """Close an unfinished top-up at its gateway (a 付款码 one is reversed), then mark it `new`
    (expired or cancelled). False when the gateway says it was paid (its notification or the
    query credits it); None when the gateway did not answer (it stays pending)."""
    top_up = TopUp.objects.filter(pk=top_up_id).first()
    if top_up is None or not top_up.is_pending:
        return False
    provider = providers.by_name(top_up.provider)
    try:
        closed = provider.close(top_up)
    except GatewayUnknown as error:
        logger.warning("payments: closing top-up %s: %s", top_up.reference, error)
        return None
    if not closed:
        return False
    with transaction.atomic():
        _member, top_up = _locked(top_up_id)
        if not top_up.is_pending:
            return False
        top_up.transition(new, user=user, reason=reason, completed_at=timezone.now())
    return True


def top_up_cancel(*, top_up_id: int, member_id: int, user: Any = None) -> TopUp:
    """The cashier gives up a QR top-up (the member went away): closed at the gateway first.
    Paid meanwhile: refused `already_paid` (it will show as credited)."""
    top_up = TopUp.objects.filter(pk=top_up_id, member_id=member_id).first()
    if top_up is None or not top_up.by_gateway:
        raise Refused(Code.UNKNOWN_TOP_UP)
    if top_up.is_pending:
        closed = _close_pending(
            top_up_id, TopUp.Status.CANCELLED, reason=_("Given up"), user=members._staff(user)
        )
        if closed is None:
            raise Refused(Code.GATEWAY_UNAVAILABLE)
        top_up.refresh_from_db()
        if top_up.is_pending:
            raise Refused(Code.ALREADY_PAID)
    return top_up


def top_up_ask_gateway(*, top_up_id: int) -> bool:
    """Ask the gateway what became of a top-up and apply it once (reconciliation found it paid
    on the gateway's bill). True when it was credited now. Raises GatewayUnknown."""
    top_up = TopUp.objects.get(pk=top_up_id)
    if top_up.is_paid or not top_up.by_gateway:
        return False
    provider = providers.by_name(top_up.provider)
    return _apply_state(provider, top_up, provider.query(top_up))


# The worker's jobs ----------------------------------------------------------------------------


def _claim(top_up_id: int, now: datetime, claim: timedelta, *, overdue: bool = False) -> bool:
    """Compare-and-set on `closing_until`: one worker asks or closes, once per claim."""
    unclaimed = Q(closing_until__isnull=True) | Q(closing_until__lt=now)
    rows = TopUp.objects.filter(unclaimed, pk=top_up_id, status=PENDING)
    if overdue:
        rows = rows.filter(expires_at__lt=now)
    return rows.update(closing_until=now + claim) == 1


def top_ups_expire_due(*, now: datetime | None = None) -> int:
    """QR top-ups not paid in time: closed at the gateway, then expired (nothing credited).
    Part of the worker's `expire` job (payments.services.payments_expire_due)."""
    now = now or timezone.now()
    expired = 0
    overdue = TopUp.objects.filter(status=PENDING, expires_at__lt=now)
    for top_up_id in overdue.values_list("pk", flat=True):
        if _claim(top_up_id, now, rules.CLOSE_CLAIM, overdue=True):
            expired += bool(
                _close_pending(top_up_id, TopUp.Status.EXPIRED, reason=_("Not completed in time"))
            )
    return expired


def top_ups_settle(*, now: datetime | None = None) -> int:
    """What a time-out left unknown, asked of the gateways (the worker's `settle` job, with the
    bills' payments): QR top-ups pending for SETTLE_AFTER, 付款码 top-ups the payer is still
    confirming (with back-off, reversed after CODE_WAIT), and refunds pending for SETTLE_AFTER
    (one the gateway never got is sent again under the same number). Returns how many changed."""
    now = now or timezone.now()
    changed = 0
    asking = (
        TopUp.objects.filter(status=PENDING, method=TopUp.Method.QR)
        .filter(Q(by_code=True) | Q(created_at__lt=now - rules.SETTLE_AFTER))
        .filter(Q(by_code=True) | Q(expires_at__gte=now) | Q(closing_until__isnull=False))
    )
    for top_up in asking:
        provider = providers.by_name(top_up.provider)
        claim = _code_claim(top_up, now) if top_up.by_code else rules.SETTLE_CLAIM
        if not _claim(top_up.pk, now, claim):
            continue
        if top_up.by_code:
            changed += _settle_code(provider, top_up, now)
            continue
        try:
            state = provider.query(top_up)
        except GatewayUnknown as error:
            logger.info("payments: query of top-up %s: %s", top_up.reference, error)
            continue
        changed += _apply_state(provider, top_up, state)
    pending = TopUpRefund.objects.filter(
        status=TopUpRefund.Status.PENDING, created_at__lt=now - rules.SETTLE_AFTER
    ).select_related("top_up")
    for refund in pending:
        provider = providers.by_name(refund.top_up.provider)
        try:
            result = provider.query_refund(refund)
            if result is None:
                result = provider.refund(refund)
        except GatewayUnknown as error:
            logger.info("payments: query of top-up refund %s: %s", refund.pk, error)
            continue
        changed += _refund_apply(refund.pk, result).status != TopUpRefund.Status.PENDING
    return changed


def _code_claim(top_up: TopUp, now: datetime) -> timedelta:
    """Back-off of a 付款码 top-up's queries: every 2 s at first, then 5, then 10."""
    age = now - top_up.created_at
    if age < timedelta(seconds=10):
        return timedelta(seconds=2)
    return timedelta(seconds=5) if age < timedelta(seconds=30) else timedelta(seconds=10)


def _settle_code(provider: Any, top_up: TopUp, now: datetime) -> bool:
    if top_up.failure != rules.REVERSING:
        try:
            state = provider.query(top_up)
        except GatewayUnknown as error:
            logger.info("payments: query of 付款码 top-up %s: %s", top_up.reference, error)
            state = None
        if state is not None and _apply_state(provider, top_up, state):
            return True
        if now - top_up.created_at < rules.CODE_WAIT:
            return False
    return bool(
        _close_pending(
            top_up.pk,
            TopUp.Status.CANCELLED,
            reason=_("The payer did not confirm in time: reversed at the gateway"),
        )
    )


# Refunds through the gateway ------------------------------------------------------------------


def top_up_refund(
    *, top_up_id: int, amount: Decimal, reason: str, user: Any = None, key: str | None = None
) -> TopUp:
    """Give back part or all of a top-up's principal, the way it was paid in: cash and card by
    the cashier (`members.services.top_up_refund`), WeChat Pay and Alipay through the gateway's
    refund API (`refund_open`), with the same rules (principal only, at most what that top-up
    paid in and the wallet still holds, its bonus in the same share). The same `key` again (a
    second tap) refunds nothing more."""
    found = TopUp.objects.filter(pk=top_up_id).first()
    if found is None or not found.by_gateway:
        return members.top_up_refund(
            top_up_id=top_up_id, amount=amount, reason=reason, user=user, key=key
        )
    value = members.refund_amount(amount)
    why = members._reason(reason)
    request_key = members.refund_key(key)
    staff = members._staff(user)
    with transaction.atomic():
        member, top_up = _locked(top_up_id)
        if members.refund_again(request_key, member):
            return top_up
        members.refund_within(member, top_up, value)
        _refund, entries = refund_open(
            member, top_up, value, reason=why, user=staff, key=request_key
        )
        members._book(entries)
    return top_up


def refund_open(
    member: Member,
    top_up: TopUp,
    value: Decimal,
    *,
    reason: str,
    user: Any = None,
    automatic: bool = False,
    key: str = "",
) -> tuple[TopUpRefund, list[LedgerEntry]]:
    """Give `value` of a paid gateway top-up's principal back through its gateway. Member and
    top-up locked, the amount checked by the caller. The wallet gives up the principal and
    the bonus's share now (on the statement; owed to the member goes down), so that nobody
    spends it while the gateway works; the gateway is called after commit. Returns the refund
    and the ledger entries to book last; the `qr` account's money goes out when the gateway
    says it was given back."""
    bonus = min(money(top_up.bonus * value / top_up.amount), member.bonus)
    top_up.refunded += value
    top_up.save(update_fields=["refunded"])
    member.principal -= value
    member.bonus -= bonus
    members._save_wallet(member)
    refund = TopUpRefund.objects.create(
        top_up=top_up, amount=value, bonus=bonus, reason=reason, user=user, automatic=automatic
    )
    TopUpEvent.objects.create(
        top_up=top_up, refund=refund, to_status=refund.status, user=user, reason=reason[:200]
    )
    members._move(member, Move.Kind.TOP_UP_REFUND, principal=-value, bonus=-bonus,
                  top_up=top_up, user=user, reason=reason, key=key)  # fmt: skip
    entries = [
        *members._owed(member, LedgerEntry.Kind.TOP_UP_REFUND, -value, top_up=top_up, user=user,
                       note=reason),
        *members._owed(member, LedgerEntry.Kind.BONUS, -bonus, top_up=top_up, user=user,
                       note=reason),
    ]  # fmt: skip
    transaction.on_commit(lambda: refund_execute(refund_id=refund.pk), robust=True)
    return refund, entries


def refund_execute(*, refund_id: int) -> TopUpRefund | None:
    """Send the refund to the gateway (after commit) and apply its answer. Still processing, or
    no answer: pending, for the refund notification or the worker's refund query."""
    refund = TopUpRefund.objects.select_related("top_up").filter(pk=refund_id).first()
    if refund is None or refund.status != TopUpRefund.Status.PENDING:
        return refund
    try:
        result = providers.by_name(refund.top_up.provider).refund(refund)
    except GatewayUnknown as error:
        logger.warning("payments: top-up refund %s is unknown for now: %s", refund.pk, error)
        return refund
    return _refund_apply(refund.pk, result)


def _refund_apply(refund_id: int, result: RefundResult) -> TopUpRefund:
    """Book what the gateway said of a top-up refund, once. Given back: the `qr` account's
    money goes out. Refused: principal and bonus go back into the wallet (on the statement,
    owed to the member up again) and the top-up can be refunded again."""
    top_up_id = TopUpRefund.objects.filter(pk=refund_id).values_list("top_up_id", flat=True).get()
    with transaction.atomic():
        member, top_up = _locked(top_up_id)
        refund = TopUpRefund.objects.select_for_update().get(pk=refund_id)
        if refund.status != TopUpRefund.Status.PENDING:
            return refund
        if result.ok is None:
            if result.gateway_refund and not refund.gateway_refund:
                refund.gateway_refund = result.gateway_refund
                refund.save(update_fields=["gateway_refund"])
            return refund
        now = timezone.now()
        if result.ok:
            refund.transition(
                TopUpRefund.Status.SUCCEEDED,
                user=refund.user,
                gateway_refund=result.gateway_refund or refund.gateway_refund,
                completed_at=now,
            )
            LedgerEntry.append([
                LedgerEntry(
                    account=LedgerEntry.Account.QR, kind=LedgerEntry.Kind.TOP_UP_REFUND,
                    amount=-refund.amount, member=member, top_up=top_up, user=refund.user,
                    note=refund.reason,
                )
            ])  # fmt: skip
            return refund
        refund.transition(
            TopUpRefund.Status.FAILED,
            user=refund.user,
            reason=result.failure,
            failure=result.failure[:200],
            completed_at=now,
        )
        top_up.refunded -= refund.amount
        top_up.save(update_fields=["refunded"])
        member.principal += refund.amount
        member.bonus += refund.bonus
        members._save_wallet(member)
        why = _("The gateway refused the refund: back in the wallet")
        members._move(member, Move.Kind.TOP_UP_UNREFUND, principal=refund.amount,
                      bonus=refund.bonus, top_up=top_up, user=refund.user,
                      reason=f"{why} ({result.failure})")  # fmt: skip
        members._book([
            *members._owed(member, LedgerEntry.Kind.TOP_UP_REFUND, refund.amount, top_up=top_up,
                           user=refund.user, note=why),
            *members._owed(member, LedgerEntry.Kind.BONUS, refund.bonus, top_up=top_up,
                           user=refund.user, note=why),
        ])  # fmt: skip
    return refund


def refund_notified(*, provider: Any, notice: RefundNotice, body: bytes) -> tuple[TopUp, bool]:
    """A gateway's refund notification of a top-up refund (WeChat's REFUND.SUCCESS …), once."""
    reference, refund_id = notice.ours
    refund = (
        TopUpRefund.objects.select_related("top_up")
        .filter(pk=refund_id, top_up__reference=reference, top_up__provider=provider.name)
        .first()
    )
    if refund is None or refund.top_up.reference != notice.out_trade_no:
        raise rules.refused_logged(NotifyRefused("unknown_refund", "No such refund.", 404), body)
    if notice.amount_cents != cents(refund.amount):
        raise rules.refused_logged(
            NotifyRefused("wrong_amount", "The amount is not the refund's."), body
        )
    if refund.gateway_refund and refund.gateway_refund != notice.gateway_refund:
        raise rules.refused_logged(
            NotifyRefused("conflict", "Another gateway refund id.", 409), body
        )
    was = refund.status
    result = RefundResult(
        ok=notice.succeeded, gateway_refund=notice.gateway_refund, failure=notice.failure
    )
    refund = _refund_apply(refund.pk, result)
    return refund.top_up, refund.status != was
