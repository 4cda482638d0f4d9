"""Writes of members: joining, the PIN, the member code, top-ups, spending and refunds of the
balance, points, adjustments, freezing and deleting personal data (payments/README.md, "Members").

Locks: a member row is locked (`lock_member`) after the tab and its payment rows and before the
ledger: the one order everywhere, so a till and a phone spending one balance queue, and a
balance, points or a code can never be spent twice. Every money move writes the statement
(`Move`) and the ledger's `member` account in the same transaction, so money owed to members in
the ledger equals the sum of all balances at every commit.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from orders import controls
from orders import selectors as order_selectors
from orders import services as order_services
from orders.settlement import LineStatus, TabStatus, build_settlement
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money, yuan

from ..models import LedgerEntry, Method, Payment, Refund
from ..selectors import bill_undone
from .models import BonusRule, Level, Member, MemberCode, Move, TopUp
from .realtime import push_member_changed

MOBILE = re.compile(r"1\d{10}")
PIN = re.compile(r"\d{6}")
# Member codes start with 97: WeChat Pay's 付款码 start 10–15 and Alipay's 25–30, so the till's
# one scan field tells them apart. Then the member's id (10 digits) and 8 digits of an HMAC of
# the id and the minute window: the code changes every CODE_WINDOW and needs no write to show.
CODE_PREFIX = "97"
CODE_WINDOW = 60
POINTS = "points"  # the kind of points money off on a bill; its ref is "points-<spend's id>"


# Strict input ---------------------------------------------------------------------------------


def _pin(value: str) -> str:
    if not PIN.fullmatch(value):
        raise Refused(Code.BAD_PIN)
    return value


def _key(value: str) -> str:
    if not value.strip() or len(value.strip()) > 64:
        raise Refused(Code.BAD_KEY)
    return value.strip()


def _reason(value: str) -> str:
    reason = value.strip()
    if not reason or len(reason) > 200:
        raise Refused(Code.REASON_REQUIRED)
    return reason


def _staff(user: Any) -> User | None:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


# Locks and reads ------------------------------------------------------------------------------


def lock_member(member_id: int) -> Member:
    """The member row, locked until the transaction ends: spends, top-ups and refunds of one
    wallet queue here (taken after the tab and payment locks, before the ledger's)."""
    member = Member.objects.select_for_update().select_related("level").filter(pk=member_id)
    found = member.first()
    if found is None:
        raise Refused(Code.UNKNOWN_MEMBER)
    return found


def _usable(member: Member) -> None:
    if member.status == Member.Status.ERASED:
        raise Refused(Code.MEMBER_ERASED)
    if member.status == Member.Status.FROZEN:
        raise Refused(Code.MEMBER_FROZEN)


def _move(member: Member, kind: str, **fields: Any) -> Move:
    """A statement line for a member whose new figures are already saved; the member's screens
    hear of it after the commit."""
    push_member_changed(member.pk)
    return Move.objects.create(
        member=member,
        kind=kind,
        principal_after=member.principal,
        bonus_after=member.bonus,
        points_after=member.points,
        **fields,
    )


# What a wallet's columns hold (MoneyField's 12 digits, PositiveIntegerField): a top-up or an
# adjustment past them was a database error, a 500 at the till, instead of a refusal.
WALLET_MONEY_BELOW = Decimal("10000000000")
WALLET_POINTS_MAX = 2**31 - 1


def card_has_room(
    member: Member, *, principal: Decimal = Decimal(0), bonus: Decimal = Decimal(0), points: int = 0
) -> None:
    """Refuse (`card_full`) money or points that the (locked) wallet could not hold."""
    if (
        member.principal + principal >= WALLET_MONEY_BELOW
        or member.bonus + bonus >= WALLET_MONEY_BELOW
        or member.points + points > WALLET_POINTS_MAX
    ):
        raise Refused(Code.CARD_FULL)


def _save_wallet(member: Member) -> None:
    member.save(update_fields=["principal", "bonus", "points"])


def _owed(member: Member, kind: str, amount: Decimal, **fields: Any) -> list[LedgerEntry]:
    """An entry of the ledger's `member` account (+ owed more to members, − owed less), to
    `_book`; none for nothing."""
    if not amount:
        return []
    return [
        LedgerEntry(
            account=LedgerEntry.Account.MEMBER, kind=kind, amount=amount, member=member, **fields
        )
    ]


def _book(entries: list[LedgerEntry]) -> None:
    """Append the entries together, last in their transaction: the ledger's append lock is
    held from here to the commit (payments/README.md, Performance)."""
    if entries:
        LedgerEntry.append(entries)


def _keyed(key: str, kind: str, member: Member | None = None) -> Move | None:
    """The statement line a till request with this key made, if any. A key of another kind of
    request (or of another member) is a client's mistake: refused."""
    found = Move.objects.filter(key=key).first()
    if found is None:
        return None
    if found.kind != kind or (member is not None and found.member_id != member.pk):
        raise Refused(Code.BAD_KEY)
    return found


# Joining --------------------------------------------------------------------------------------


def _new_number() -> str:
    """An 8-digit member number nobody has: what a member without a mobile gives at the till."""
    while True:
        number = str(secrets.randbelow(90_000_000) + 10_000_000)
        if not Member.objects.filter(number=number).exists():
            return number


def member_create(
    *,
    mobile: str | None = None,
    name: str = "",
    birthday: date | None = None,
    pin: str | None = None,
    level_id: int | None = None,
    user: Any = None,
    key: str | None = None,
) -> Member:
    """A new member, at the till or from the table's page: a mobile or only a member number,
    and what else the person chooses to give. Joining twice with one mobile is refused. The
    same `key` again (a second tap at the till) is the member the first made."""
    if key is not None:
        key = _key(key)
        first = _keyed(key, Move.Kind.JOINED)
        if first is not None:
            return Member.objects.select_related("level").get(pk=first.member_id)
    if mobile is not None and not MOBILE.fullmatch(mobile):
        raise Refused(Code.BAD_MOBILE)
    if len(name) > 40:
        raise Refused(Code.BAD_MEMBER_NAME)
    pin_hash = make_password(_pin(pin)) if pin else ""
    level = Level.objects.filter(pk=level_id) if level_id else Level.objects.filter(is_default=True)
    chosen = level.first() or Level.objects.order_by("position", "id").first()
    if chosen is None:
        chosen = Level.objects.create(name="普通会员", name_en="Member", is_default=True)
    try:
        with transaction.atomic():
            member = Member.objects.create(
                number=_new_number(), mobile=mobile, name=name, birthday=birthday, level=chosen,
                pin=pin_hash, created_by=_staff(user),
            )  # fmt: skip
            _move(member, Move.Kind.JOINED, user=_staff(user), key=key or "")
    except IntegrityError:
        # Two taps of one form at once: the second waited on the first's key and finds it.
        first = _keyed(key, Move.Kind.JOINED) if key else None
        if first is not None:
            return Member.objects.select_related("level").get(pk=first.member_id)
        raise Refused(Code.MOBILE_TAKEN) from None
    return member


# The PIN --------------------------------------------------------------------------------------


def member_pin_set(*, member_id: int, pin: str, user: Any = None) -> Member:
    """Set or change the PIN (at the till, the member present; or by the member on their page,
    after the old PIN). Unlocks a locked PIN."""
    pin_hash = make_password(_pin(pin))
    with transaction.atomic():
        member = lock_member(member_id)
        if member.status == Member.Status.ERASED:
            raise Refused(Code.MEMBER_ERASED)
        member.pin, member.pin_failures, member.pin_locked_until = pin_hash, 0, None
        member.save(update_fields=["pin", "pin_failures", "pin_locked_until"])
    return member


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, -(-int((until - now).total_seconds()) // 60))


def member_pin_check(*, member_id: int, pin: str) -> Member:
    """The member, if `pin` is theirs. A wrong PIN is counted (and that count is kept: call
    this outside any other transaction); MEMBER_PIN_TRIES wrong in a row lock the PIN for
    MEMBER_PIN_LOCK_MINUTES, and a locked PIN is refused even when right."""
    given = pin
    now = timezone.now()
    with transaction.atomic():
        member = lock_member(member_id)
        if member.status == Member.Status.ERASED:
            raise Refused(Code.MEMBER_ERASED)
        if member.pin_locked(now):
            assert member.pin_locked_until is not None
            raise Refused(Code.PIN_LOCKED, minutes=_minutes_left(member.pin_locked_until, now))
        if not member.pin:
            raise Refused(Code.NO_PIN)
        if PIN.fullmatch(given) and check_password(given, member.pin):
            if member.pin_failures or member.pin_locked_until:
                member.pin_failures, member.pin_locked_until = 0, None
                member.save(update_fields=["pin_failures", "pin_locked_until"])
            return member
        member.pin_failures += 1
        left = settings.MEMBER_PIN_TRIES - member.pin_failures
        if left <= 0:
            member.pin_failures = 0
            member.pin_locked_until = now + timedelta(minutes=settings.MEMBER_PIN_LOCK_MINUTES)
        member.save(update_fields=["pin_failures", "pin_locked_until"])
    if left <= 0:
        raise Refused(Code.PIN_LOCKED, minutes=settings.MEMBER_PIN_LOCK_MINUTES)
    raise Refused(Code.WRONG_PIN, left=left, minutes=settings.MEMBER_PIN_LOCK_MINUTES)


# The member code ------------------------------------------------------------------------------


def _code_digits(member_id: int, window: int) -> str:
    message = f"member-code:{member_id}:{window}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"{int(digest[:16], 16) % 10**8:08d}"


def member_code(member: Member, now: datetime | None = None) -> tuple[str, datetime]:
    """The member's code for this minute and when it runs out. Computed, not stored: the page
    shows it with a GET; the till marks it used when it spends with it."""
    seconds = int((now or timezone.now()).timestamp())
    window = seconds // CODE_WINDOW
    expires = datetime.fromtimestamp((window + 1) * CODE_WINDOW, tz=UTC)
    return f"{CODE_PREFIX}{member.pk:010d}{_code_digits(member.pk, window)}", expires


def is_member_code(value: object) -> bool:
    return isinstance(value, str) and value.strip().startswith(CODE_PREFIX)


def member_by_code(code: object, now: datetime | None = None) -> tuple[Member, str]:
    """The member a scanned code names, if it is this minute's (or the last minute's, scanned
    as it changed). Not yet used up: `member_code_use` does that, inside the spend."""
    text = code.strip() if isinstance(code, str) else ""
    if not re.fullmatch(CODE_PREFIX + r"\d{18}", text):
        raise Refused(Code.BAD_MEMBER_CODE)
    member_id, digits = int(text[2:12]), text[12:]
    window = int((now or timezone.now()).timestamp()) // CODE_WINDOW
    if not any(
        hmac.compare_digest(digits, _code_digits(member_id, w)) for w in (window, window - 1)
    ):
        raise Refused(Code.BAD_MEMBER_CODE)
    member = Member.objects.select_related("level").filter(pk=member_id).first()
    if member is None:
        raise Refused(Code.BAD_MEMBER_CODE)
    return member, text


def member_code_use(*, member: Member, code: str) -> None:
    """Mark the code used, once: a unique row. Two tills scanning one code at the same moment:
    the second waits on the first's insert and is refused when it commits. Call inside the
    spend's transaction, so a refused spend leaves the code unused."""
    now = timezone.now()
    try:
        with transaction.atomic():
            MemberCode.objects.create(
                member=member,
                code=code,
                expires_at=now + timedelta(seconds=2 * CODE_WINDOW),
                used_at=now,
            )
    except IntegrityError:
        raise Refused(Code.MEMBER_CODE_USED) from None


@dataclass
class MemberAuth:
    """How a member shows it is them: a scanned code, or a mobile / member number and PIN."""

    code: str = ""
    login: str = ""
    pin: str = ""
    member_id: int | None = None  # the member already known (the phone's tab member)


def member_identify(auth: MemberAuth | None) -> tuple[Member, str]:
    """(member, code to use up or ""). No code and no PIN: refused, nothing is spent. Call
    outside a transaction: a wrong PIN is counted for good."""
    if auth is None:
        raise Refused(Code.MEMBER_AUTH_REQUIRED)
    if auth.code:
        return member_by_code(auth.code)
    if not auth.pin:
        raise Refused(Code.MEMBER_AUTH_REQUIRED)
    member = member_find_one(auth.login) if auth.login else None
    if member is None and auth.member_id is not None:
        member = Member.objects.filter(pk=auth.member_id).first()
    if member is None:
        raise Refused(Code.UNKNOWN_MEMBER)
    return member_pin_check(member_id=member.pk, pin=auth.pin), ""


def member_find_one(login: object) -> Member | None:
    """The member with this mobile or member number (exactly), or None."""
    text = login.strip() if isinstance(login, str) else ""
    if not text.isdigit():
        return None
    return Member.objects.filter(mobile=text).first() or Member.objects.filter(number=text).first()


# Top-ups --------------------------------------------------------------------------------------


def bonus_for(amount: Decimal) -> Decimal:
    """The largest rule the top-up reaches (充 500 送 100 beats 充 200 送 30); none: nothing."""
    rule = (
        BonusRule.objects.filter(active=True, threshold__lte=amount).order_by("-threshold").first()
    )
    return rule.bonus if rule else Decimal(0)


TOP_UP_ACCOUNTS = {
    TopUp.Method.CASH: LedgerEntry.Account.CASH,
    TopUp.Method.CARD: LedgerEntry.Account.CARD,
    TopUp.Method.QR: LedgerEntry.Account.QR,
}


def top_up_create(
    *,
    member_id: int,
    amount: Decimal,
    method: str,
    key: str,
    user: Any = None,
    terminal_ref: str = "",
) -> tuple[TopUp, bool]:
    """储值: money paid in at the till by cash or card, with the bonus its rule gives. The same
    key again returns the first top-up and takes nothing more. Returns (top-up, created)."""
    if amount <= 0 or amount != money(amount):
        raise Refused(Code.BAD_AMOUNT)
    value = amount
    if method not in (TopUp.Method.CASH, TopUp.Method.CARD):
        raise Refused(Code.BAD_METHOD)  # WeChat Pay and Alipay: topups.top_up_start
    way = TopUp.Method(method)
    key = _key(key)
    reference = terminal_ref.strip()
    if (way == TopUp.Method.CARD and not reference) or len(reference) > 64:
        raise Refused(Code.REFERENCE_REQUIRED)
    staff = _staff(user)
    with transaction.atomic():
        member = lock_member(member_id)
        existing = TopUp.objects.filter(member=member, key=key).first()
        if existing is not None:
            return existing, False
        _usable(member)
        bonus = bonus_for(value)
        card_has_room(member, principal=value, bonus=bonus)
        top_up = TopUp.objects.create(
            member=member, method=way, amount=value, bonus=bonus, key=key,
            terminal_ref=reference, user=staff, completed_at=timezone.now(),
        )  # fmt: skip
        _book(paid_in(member, top_up, user=staff))
    return top_up, True


def paid_in(member: Member, top_up: TopUp, *, user: User | None) -> list[LedgerEntry]:
    """A top-up's money is in: its principal and bonus go into the (locked) wallet and on the
    statement. Returns its ledger entries, to book last: the money in its account (cash, card,
    QR: not sales) and what is owed to the member up by principal and bonus."""
    member.principal += top_up.amount
    member.bonus += top_up.bonus
    _save_wallet(member)
    _move(member, Move.Kind.TOP_UP, principal=top_up.amount, bonus=top_up.bonus, top_up=top_up,
          user=user)  # fmt: skip
    money_in = LedgerEntry(
        account=TOP_UP_ACCOUNTS[TopUp.Method(top_up.method)], kind=LedgerEntry.Kind.TOP_UP,
        amount=top_up.amount, member=member, top_up=top_up, user=user,
    )  # fmt: skip
    return [
        money_in,
        *_owed(member, LedgerEntry.Kind.TOP_UP, top_up.amount, top_up=top_up, user=user),
        *_owed(member, LedgerEntry.Kind.BONUS, top_up.bonus, top_up=top_up, user=user),
    ]


def refund_amount(amount: Decimal) -> Decimal:
    """A top-up refund's amount: above zero, to the fen."""
    if amount <= 0 or amount != money(amount):
        raise Refused(Code.BAD_AMOUNT)
    return amount


def refund_within(member: Member, top_up: TopUp, value: Decimal) -> None:
    """A top-up refund gives back only a paid top-up's principal, at most what it paid in and
    not yet given back, and never more principal than the (locked) wallet still holds."""
    if not top_up.is_paid:
        raise Refused(Code.TOP_UP_NOT_PAID)
    left = min(top_up.amount - top_up.refunded, member.principal)
    if value > left:
        raise Refused(Code.OVER_TOP_UP_REFUND, left=yuan(left))


def refund_key(key: str | None) -> str:
    """A top-up refund's request key ("" for none)."""
    return _key(key) if key is not None else ""


def refund_again(request_key: str, member: Member) -> bool:
    """Was this refund request made already? A second tap while the first is under way waits
    on the member's lock, then finds the first's statement line by its key."""
    return bool(request_key) and _keyed(request_key, Move.Kind.TOP_UP_REFUND, member) is not None


def top_up_refund(
    *, top_up_id: int, amount: Decimal, reason: str, user: Any = None, key: str | None = None
) -> TopUp:
    """Give back part or all of a cash or card top-up's principal, the way it was paid in (the
    cashier hands it back; WeChat Pay and Alipay: `topups.top_up_refund`). Only principal
    returns, and only what is still unspent in the wallet; the bonus that top-up brought goes
    in the same share (a half refunded takes half its bonus, as far as bonus is left). The same
    `key` again (a second tap) refunds nothing more."""
    value = refund_amount(amount)
    why = _reason(reason)
    request_key = refund_key(key)
    staff = _staff(user)
    member_id = TopUp.objects.filter(pk=top_up_id).values_list("member_id", flat=True).first()
    if member_id is None:
        raise Refused(Code.UNKNOWN_TOP_UP)
    with transaction.atomic():
        member = lock_member(member_id)
        top_up = TopUp.objects.select_for_update().get(pk=top_up_id)
        if refund_again(request_key, member):
            return top_up
        if top_up.by_gateway:  # given back through its gateway: topups.top_up_refund
            raise Refused(Code.BAD_METHOD)
        refund_within(member, top_up, value)
        bonus = min(money(top_up.bonus * value / top_up.amount), member.bonus)
        top_up.refunded += value
        top_up.save(update_fields=["refunded"])
        member.principal -= value
        member.bonus -= bonus
        _save_wallet(member)
        _move(member, Move.Kind.TOP_UP_REFUND, principal=-value, bonus=-bonus, top_up=top_up,
              user=staff, reason=why, key=request_key)  # fmt: skip
        paid_out = LedgerEntry(
            account=TOP_UP_ACCOUNTS[TopUp.Method(top_up.method)],
            kind=LedgerEntry.Kind.TOP_UP_REFUND, amount=-value, member=member, top_up=top_up,
            user=staff, note=why,
        )  # fmt: skip
        _book([
            paid_out,
            *_owed(member, LedgerEntry.Kind.TOP_UP_REFUND, -value, top_up=top_up, user=staff,
                   note=why),
            *_owed(member, LedgerEntry.Kind.BONUS, -bonus, top_up=top_up, user=staff, note=why),
        ])  # fmt: skip
    return top_up


# Paying by balance ----------------------------------------------------------------------------


def _split(member: Member, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(principal, bonus) an amount takes from the wallet, by MEMBER_SPEND_ORDER."""
    if settings.MEMBER_SPEND_ORDER == "principal_first":
        principal = min(amount, member.principal)
        return principal, amount - principal
    balance = member.balance
    principal = (amount * member.principal / balance).quantize(Decimal("0.01"), ROUND_HALF_UP)
    principal = min(max(principal, amount - member.bonus), member.principal)
    return principal, amount - principal


def _points_for(member: Member, paid: Decimal) -> int:
    return int((paid * member.level.points_rate).to_integral_value(ROUND_DOWN))


def balance_spend(*, payment: Payment, member: Member, code: str = "") -> Move:
    """A payment by balance: the wallet pays `payment.amount` (principal and bonus by the spend
    order), the code is used up, points are earned on the principal part (money really paid,
    not bonus). Inside the payment's transaction, the tab locked; refuses and so rolls it back
    when the member is frozen or the balance is short. The ledger entry comes last
    (`spend_entry`)."""
    member = lock_member(member.pk)
    _usable(member)
    if code:
        member_code_use(member=member, code=code)
    amount = payment.amount
    if member.balance < amount:
        raise Refused(Code.NOT_ENOUGH_BALANCE, balance=yuan(member.balance), amount=yuan(amount))
    principal, bonus = _split(member, amount)
    points = _points_for(member, principal)
    member.principal -= principal
    member.bonus -= bonus
    member.points += points
    _save_wallet(member)
    staff = payment.user
    move = _move(member, Move.Kind.SPEND, principal=-principal, bonus=-bonus, payment=payment,
                 user=staff)  # fmt: skip
    if points:
        _move(member, Move.Kind.POINTS_EARN, points=points, payment=payment, user=staff)
    return move  # the ledger's side is `spend_entry`, written last (payments.services._book)


def spend_entry(payment: Payment, *, user: Any = None) -> LedgerEntry:
    """The ledger's side of a payment by balance: owed to members goes down by it. Unsaved:
    the payment side appends it last in the payment's transaction, with its other entries."""
    spend = Move.objects.only("member_id").get(payment=payment, kind=Move.Kind.SPEND)
    return LedgerEntry(
        account=LedgerEntry.Account.MEMBER, kind=LedgerEntry.Kind.PAYMENT, amount=-payment.amount,
        member_id=spend.member_id, tab_id=payment.tab_id, payment=payment, user=user,
    )  # fmt: skip


def payment_member(payment: Payment) -> Member | None:
    """Who paid a `member` payment (its spend on the statement)."""
    move = Move.objects.filter(payment=payment, kind=Move.Kind.SPEND).select_related("member")
    found = move.first()
    return found.member if found else None


def balance_refund(*, payment: Payment, refund: Refund) -> None:
    """A refund of a payment by balance goes back to the wallet, principal and bonus in the
    share the payment took them, and takes back the points the refunded part earned (as far as
    the member still has them). Inside the refund's transaction, tab and payment locked. A
    frozen member's refund still comes back: money is never kept from a member."""
    spend = Move.objects.get(payment=payment, kind=Move.Kind.SPEND)
    member = lock_member(spend.member_id)
    taken_principal, taken = -spend.principal, -(spend.principal + spend.bonus)
    back = Move.objects.filter(payment=payment, kind=Move.Kind.REFUND)
    principal_back = sum((m.principal for m in back), Decimal(0))
    principal = min(
        money(taken_principal * refund.amount / taken), taken_principal - principal_back
    )
    bonus = refund.amount - principal
    member.principal += principal
    member.bonus += bonus
    _save_wallet(member)
    staff = refund.user
    _move(member, Move.Kind.REFUND, principal=principal, bonus=bonus, payment=payment,
          refund=refund, user=staff, reason=refund.reason)  # fmt: skip
    _points_take_back(member, payment, refund, principal, taken_principal)
    _book(_owed(member, LedgerEntry.Kind.REFUND, refund.amount, tab_id=payment.tab_id,
                payment=payment, refund=refund, user=staff, note=refund.reason))  # fmt: skip


def _points_take_back(
    member: Member, payment: Payment, refund: Refund, part: Decimal, whole: Decimal
) -> None:
    """A refund takes back the points its part of the payment earned (`part` of `whole`), as
    far as the member still has them: points already used stay used. Member locked."""
    moves = Move.objects.filter(payment=payment)
    earned = sum(m.points for m in moves.filter(kind=Move.Kind.POINTS_EARN))
    back = sum(-m.points for m in moves.filter(kind=Move.Kind.POINTS_REVERSE))
    if not earned or not whole:
        return
    share = int((earned * part / whole).to_integral_value(ROUND_HALF_UP))
    take = min(member.points, share, earned - back)
    if take <= 0:
        return
    member.points -= take
    _save_wallet(member)
    _move(member, Move.Kind.POINTS_REVERSE, points=-take, payment=payment, refund=refund,
          user=refund.user, reason=refund.reason)  # fmt: skip


# A member on the bill: member prices, points on what is paid, points as money off -------------


def member_ref(member: Member) -> str:
    """What orders keeps of the member on a bill (`Tab.member_ref`): the member number, which
    outlives an erasure and says nothing about the person."""
    return member.number


def member_on_tab(tab_id: int) -> Member | None:
    tab = order_selectors.tab_with_table(tab_id)
    if not tab.member_ref:
        return None
    return Member.objects.select_related("level").filter(number=tab.member_ref).first()


def tab_member_identify(*, tab_id: int, auth: MemberAuth | None, user: Any = None) -> Member:
    """The member shows it is them (code, or mobile / number and PIN) and goes on the bill:
    member prices and the level's discount apply (orders prices the bill). Call outside a
    transaction (a wrong PIN counts)."""
    member, code = member_identify(auth)
    with transaction.atomic():
        order_services.lock_tab(tab_id)
        locked = lock_member(member.pk)
        _usable(locked)
        if code:
            member_code_use(member=locked, code=code)
        rate = locked.level.discount_rate
        order_services.tab_member_set(
            tab_id=tab_id,
            member_ref=member_ref(locked),
            label=f"{locked.level.name} …{locked.number[-4:]}",
            discount_rate=rate if rate < 1 else None,
            user=_staff(user),
        )
    return locked


def tab_member_leave(*, tab_id: int, user: Any = None) -> None:
    """The member leaves the bill, and so does the points money off they put on it (the
    points come back)."""
    with transaction.atomic():
        order_services.lock_tab(tab_id)
        member = member_on_tab(tab_id)
        if member is not None:
            spent = Move.objects.filter(member=member, kind=Move.Kind.POINTS_SPEND, tab_id=tab_id)
            for move in spent:
                points_release(tab_id=tab_id, move_id=move.pk, user=user)
        order_services.tab_member_clear(tab_id=tab_id, user=_staff(user))


def points_earn(*, payment: Payment) -> None:
    """Points for money paid on a bill with a member on it (cash, card, QR: real money, the
    bill's discounts already off), at the member's level rate. A payment by balance earns its
    own (on its principal, `balance_spend`). Inside the payment's transaction, tab locked."""
    if payment.method == Method.MEMBER:
        return
    member = member_on_tab(payment.tab_id)
    if member is None or member.status != Member.Status.ACTIVE:
        return
    member = lock_member(member.pk)
    points = _points_for(member, payment.amount)
    if points:
        member.points += points
        _save_wallet(member)
        _move(member, Move.Kind.POINTS_EARN, points=points, payment=payment, user=payment.user)


def points_refunded(*, payment: Payment, refund: Refund) -> None:
    """A refund of a cash, card or QR payment that earned points takes its share back."""
    earned = Move.objects.filter(payment=payment, kind=Move.Kind.POINTS_EARN).first()
    if earned is None:
        return
    member = lock_member(earned.member_id)
    _points_take_back(member, payment, refund, refund.amount, payment.amount)


def points_value(points: int) -> Decimal:
    """What points are worth as money off: POINTS_PER_YUAN points a yuan, to the fen."""
    return money(Decimal(points) / settings.POINTS_PER_YUAN)


def points_redeem(*, tab_id: int, points: int, user: Any = None) -> Move:
    """积分抵现: the bill's member spends points as money off, at most POINTS_MAX_PERCENT of
    what the bill comes to now. The points leave the wallet at once (on the statement) and
    come back when the money off is taken off the bill again."""
    number = points
    if number <= 0:
        raise Refused(Code.BAD_POINTS)
    with transaction.atomic():
        order_services.lock_tab(tab_id)
        found = member_on_tab(tab_id)
        if found is None:
            raise Refused(Code.UNKNOWN_MEMBER)
        member = lock_member(found.pk)
        _usable(member)
        if member.points < number:
            raise Refused(Code.NOT_ENOUGH_POINTS, points=member.points)
        total = Decimal(build_settlement(tab_id)["total"])
        most = money(total * settings.POINTS_MAX_PERCENT / 100)
        off = points_value(number)
        if off <= 0 or off > most:
            raise Refused(Code.TOO_MANY_POINTS, most=yuan(most))
        member.points -= number
        _save_wallet(member)
        move = _move(member, Move.Kind.POINTS_SPEND, points=-number, tab_id=tab_id,
                     user=_staff(user), reason=yuan(off))  # fmt: skip
        order_services.tab_adjustment_add(
            tab_id=tab_id, kind=POINTS, reason=f"{number} 积分", ref=f"{POINTS}-{move.pk}",
            amount=off, user=_staff(user),
        )  # fmt: skip
    return move


def points_release(*, tab_id: int, move_id: int, user: Any = None) -> bool:
    """Take points money off the bill again: the points still spent go back to the member.
    False when it was already taken off (nothing changes)."""
    with transaction.atomic():
        order_services.lock_tab(tab_id)
        move = Move.objects.filter(pk=move_id, kind=Move.Kind.POINTS_SPEND, tab_id=tab_id).first()
        if move is None:
            return False
        if not order_services.tab_adjustment_remove(
            tab_id=tab_id, kind=POINTS, ref=f"{POINTS}-{move.pk}", user=_staff(user)
        ):
            return False
        _points_return(move, _still_spent(move), user=_staff(user), reason=move.reason)
    return True


def _spend_id(ref: str) -> int:
    """The `points_spend` a bill's points row names (ref "points-<id>"); 0 for another ref."""
    head, _dash, tail = ref.partition("-")
    return int(tail) if head == POINTS and tail.isdigit() else 0


def _still_spent(spend: Move) -> int:
    """The points of a `points_spend` not given back yet (the spend's points are negative)."""
    returned = Move.objects.filter(returns=spend).aggregate(total=Sum("points"))["total"]
    return -spend.points - (returned or 0)


def _points_return(spend: Move, points: int, *, user: User | None, reason: str) -> None:
    """`points` of a spend back to its member, on the statement naming the spend. Tab locked."""
    if points <= 0:
        return
    member = lock_member(spend.member_id)
    member.points += points
    _save_wallet(member)
    _move(member, Move.Kind.POINTS_RETURN, points=points, tab_id=spend.tab_id, returns=spend,
          user=user, reason=reason[:200])  # fmt: skip


def points_give_back(*, tab_id: int, user: Any = None) -> int:
    """After a change of the bill (a void, a refund, a coupon, a close): points spent on it
    that buy nothing come back, once, whichever path gets here first (the tab's lock queues
    them; each return names its spend). All of them when the bill is wholly voided or wholly
    refunded; when the bill only went below its points money off, the points it no longer
    takes off, and the money off is lowered to what the points kept buy, so that a dish added
    later does not take the given-back points again. A closed bill's money off stays as it was
    (orders changes no closed bill): only the points move. Returns the points given back."""
    if not Move.objects.filter(tab_id=tab_id, kind=Move.Kind.POINTS_SPEND).exists():
        return 0  # most bills: no lock taken, nothing read
    staff = _staff(user)
    back = 0
    with transaction.atomic():
        tab = order_services.lock_tab(tab_id)
        settlement = build_settlement(tab_id)
        undone = bill_undone(settlement)
        voided = all(line["status"] == LineStatus.VOIDED for line in settlement["lines"])
        rows = [r for r in settlement["adjustments"] if r["kind"] == POINTS]
        spends = Move.objects.filter(
            kind=Move.Kind.POINTS_SPEND, tab_id=tab_id, pk__in=[_spend_id(r["ref"]) for r in rows]
        ).in_bulk()
        for row in rows:
            spend = spends.get(_spend_id(row["ref"]))
            if spend is None:
                continue
            held = _still_spent(spend)
            buys = Decimal(0) if undone else -Decimal(row["amount"])
            keep = min(
                held, int((buys * settings.POINTS_PER_YUAN).to_integral_value(ROUND_CEILING))
            )
            if keep >= held:
                continue
            if undone:
                why = "bill voided" if voided else "bill refunded"
            else:
                why = "bill went down"
            _points_return(spend, held - keep, user=staff, reason=why)  # Move.reason_text
            back += held - keep
            if tab.status == TabStatus.CLOSED:
                continue
            if keep:
                order_services.tab_adjustment_lower(
                    tab_id=tab_id, kind=POINTS, ref=row["ref"], amount=max(points_value(keep), buys),
                    reason=f"{keep} 积分", user=staff,
                )  # fmt: skip
            else:
                order_services.tab_adjustment_remove(
                    tab_id=tab_id, kind=POINTS, ref=row["ref"], user=staff
                )
    return back


def coupon_noted(
    *, member_id: int, tab_id: int | None, coupon: str, why: str, user: Any = None
) -> None:
    """A coupon issued to the member was used on a bill (`why` "used") or given back (`why`
    one of GIVEN_BACK_WHY's): a line of their statement, "<coupon> · <why>" (no money moves
    here; the bill shows the money off). The code's row is locked."""
    kind = Move.Kind.COUPON if why == "used" else Move.Kind.COUPON_BACK
    member = lock_member(member_id)
    _move(member, kind, tab_id=tab_id, user=_staff(user), reason=f"{coupon[:150]} · {why}")


# The manager's and the till's other moves -----------------------------------------------------


def member_adjust(
    *,
    member_id: int,
    balance: Decimal = Decimal(0),
    points: int = 0,
    reason: str,
    user: Any,
    key: str | None = None,
) -> Member:
    """A manager's correction of the balance (bonus, never principal: principal is only money
    paid in) and points, with a reason, on the statement and in the ledger. Never below zero.
    The same `key` again (a second tap) adjusts nothing more."""
    if not controls.is_manager(_staff(user)):
        raise Refused(Code.MANAGER_ONLY)
    if balance != money(balance):
        raise Refused(Code.BAD_AMOUNT)
    change, points_change = balance, points
    why = _reason(reason)
    if not change and not points_change:
        raise Refused(Code.NOTHING_TO_ADJUST)
    request_key = _key(key) if key is not None else ""
    with transaction.atomic():
        member = lock_member(member_id)
        if request_key and _keyed(request_key, Move.Kind.ADJUST, member) is not None:
            return member  # the first tap's (the member lock queued this one behind it)
        if member.status == Member.Status.ERASED:
            raise Refused(Code.MEMBER_ERASED)
        if member.bonus + change < 0:
            raise Refused(Code.NOT_ENOUGH_BALANCE, balance=yuan(member.bonus), amount=yuan(-change))
        if member.points + points_change < 0:
            raise Refused(Code.NOT_ENOUGH_POINTS, points=member.points)
        card_has_room(member, bonus=change, points=points_change)
        member.bonus += change
        member.points += points_change
        _save_wallet(member)
        _move(member, Move.Kind.ADJUST, bonus=change, points=points_change, user=user,
              reason=why, key=request_key)  # fmt: skip
        _book(_owed(member, LedgerEntry.Kind.ADJUST, change, user=user, note=why))
    return member


def member_freeze(*, member_id: int, frozen: bool, reason: str, user: Any) -> Member:
    """A lost card: frozen, nothing can be spent or topped up until unfrozen (money owed back,
    a refund, still comes back)."""
    why = _reason(reason)
    with transaction.atomic():
        member = lock_member(member_id)
        if member.status == Member.Status.ERASED:
            raise Refused(Code.MEMBER_ERASED)
        to = Member.Status.FROZEN if frozen else Member.Status.ACTIVE
        if member.status != to:
            member.transition(to, user=_staff(user), reason=why)
            push_member_changed(member.pk)
    return member


def member_erase(*, member_id: int, reason: str, user: Any) -> Member:
    """Delete a member's personal data on request: mobile, name, birthday, PIN and private link
    go; the number, the amounts and the statement stay, so the books stay right. Whatever
    balance is left stays owed (refund the top-ups first if the person wants money back); an
    erased member can spend nothing."""
    why = _reason(reason)
    with transaction.atomic():
        member = lock_member(member_id)
        if member.status == Member.Status.ERASED:
            return member
        member.transition(
            Member.Status.ERASED, user=_staff(user), reason=why, mobile=None, name="",
            birthday=None, pin="", link_token=secrets.token_urlsafe(24),
            erased_at=timezone.now(),
        )  # fmt: skip
        push_member_changed(member.pk)
    return member


def points_expire(*, now: datetime | None = None) -> int:
    """Year-end expiry: from 1 January on, points left from before it go, one statement line
    per member and year (run again, it finds nothing more). Returns how many members lost
    points. The worker runs `points_expire_due`; this one always runs (tests, by hand)."""
    now = now or timezone.now()
    year_start = timezone.localtime(now).replace(
        month=1, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    expired_this_year = Move.objects.filter(
        member=OuterRef("pk"), kind=Move.Kind.POINTS_EXPIRE, created_at__gte=year_start
    )
    earned_before = Move.objects.filter(
        member=OuterRef("pk"), points__gt=0, created_at__lt=year_start
    )
    candidates = Member.objects.filter(points__gt=0).filter(
        ~Exists(expired_this_year), Exists(earned_before)
    )
    done = 0
    for member_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            member = lock_member(member_id)
            if Move.objects.filter(
                member=member, kind=Move.Kind.POINTS_EXPIRE, created_at__gte=year_start
            ).exists():
                continue  # another worker copy did it a moment ago
            earned_since = sum(
                m.points
                for m in Move.objects.filter(
                    member=member, created_at__gte=year_start, points__gt=0
                )
            )
            expiring = max(member.points - earned_since, 0)
            member.points -= expiring
            _save_wallet(member)
            _move(member, Move.Kind.POINTS_EXPIRE, points=-expiring, created_at=now)
            done += bool(expiring)
    return done


def points_expire_due() -> int:
    """The worker's job: year-end expiry, when POINTS_EXPIRE_AT_YEAR_END is on."""
    if not settings.POINTS_EXPIRE_AT_YEAR_END:
        return 0
    return points_expire()
