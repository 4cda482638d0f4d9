"""Coupons: issue, redeem at the till or on a phone, take off, give back. Every write locks the
bill first (`orders.services.lock_tab`, the one lock order of payments), then the code's row."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from orders import selectors as order_selectors
from orders import services as order_services
from orders.settlement import LineStatus, TabStatus, build_settlement
from restaurant.lib.errors import Code, Refused

from ..members import services as members
from ..members.realtime import push_member_changed
from ..selectors import bill_undone
from .models import Batch, Coupon, CouponCode, CouponEvent

MAX_BATCH = 5000
COUPON = "coupon"  # the kind of a coupon's adjustment on a bill


def _find(code: str) -> CouponCode:
    """The code as stored (the edges read what was typed: payments.forms.coupon_code)."""
    found = CouponCode.objects.filter(code=code).first()
    if found is None:
        raise Refused(Code.UNKNOWN_COUPON)
    return found


@transaction.atomic
def coupon_issue(
    *, coupon: Coupon, member_id: int | None = None, user: User | None = None
) -> CouponCode:
    """One code of the coupon, for a member (their page lists it) or to hand out."""
    issued = CouponCode.objects.create(coupon=coupon, member_id=member_id)
    CouponEvent.objects.create(code=issued, kind="issued", user=user)
    _push_member(issued)
    return issued


@transaction.atomic
def batch_issue(
    *, coupon: Coupon, quantity: int, note: str = "", user: User | None = None
) -> Batch:
    """`quantity` single-use codes of the coupon, to print or export."""
    if not 0 < quantity <= MAX_BATCH:  # the admin's form reads the number
        raise Refused(Code.INVALID, problems=f"quantity must be 1 to {MAX_BATCH}")
    batch = Batch.objects.create(coupon=coupon, quantity=quantity, note=note[:100], created_by=user)
    codes: set[str] = set()
    while len(codes) < quantity:
        codes.add(CouponCode._meta.get_field("code").get_default())
    taken = set(CouponCode.objects.filter(code__in=codes).values_list("code", flat=True))
    made = CouponCode.objects.bulk_create(
        CouponCode(coupon=coupon, batch=batch, code=code) for code in codes - taken
    )
    CouponEvent.objects.bulk_create(
        CouponEvent(code=code, kind="issued", user=user, reason=f"batch {batch.pk}")
        for code in made
    )
    while len(made) < quantity:  # a code made before (one in 800 trillion): another
        made.append(coupon_issue(coupon=coupon, user=user))
        made[-1].batch = batch
        made[-1].save(update_fields=["batch"])
    return batch


def coupon_redeem(*, code: str, tab_id: int, user: User | None = None) -> CouponCode:
    """Use a code on a bill (at the till, on a phone, through the API). Used once: when two
    tills try the same code at the same moment, the code's row lock lets one through and the
    other is told it is used. The same code again on the same bill is the one already there.
    Refused, changing nothing: an unknown code, one used on another bill, one not valid now,
    one that does not apply to the bill (its minimum, its dishes, another coupon)."""
    found = _find(code)
    if not order_selectors.tab_exists(tab_id):
        raise Refused(Code.UNKNOWN_TAB)
    with transaction.atomic():
        order_services.lock_tab(tab_id)
        # The race: two tills redeeming one code. The row lock queues the second, which then
        # reads it redeemed.
        locked = CouponCode.objects.select_for_update().select_related("coupon").get(pk=found.pk)
        if locked.status == CouponCode.Status.REDEEMED:
            if locked.tab_id == tab_id:
                return locked
            raise Refused(Code.COUPON_USED)
        why = locked.coupon.unusable_because(timezone.now())
        if why:
            raise Refused(Code.COUPON_NOT_VALID, why=why)
        locked.transition(CouponCode.Status.REDEEMED, tab_id=tab_id, user=user)
        _push_member(locked)
        if locked.member_id:
            members.coupon_noted(
                member_id=locked.member_id, tab_id=tab_id, coupon=f"{locked.coupon.name} {locked}",
                why="used", user=user,
            )  # fmt: skip
        order_services.tab_adjustment_add(
            tab_id=tab_id,
            kind=COUPON,
            reason=locked.coupon.name,
            ref=locked.code,
            rule=locked.coupon.rule(),
            user=user,
        )
    return locked


def coupon_remove(*, code: str, tab_id: int, user: User | None = None) -> CouponCode:
    """Take a code off the bill it is on: it can be used again."""
    found = _find(code)
    if not order_selectors.tab_exists(tab_id):
        raise Refused(Code.UNKNOWN_TAB)
    with transaction.atomic():
        order_services.lock_tab(tab_id)
        code_row = CouponCode.objects.select_for_update(of=("self",)).select_related("coupon")
        locked = code_row.get(pk=found.pk)
        if locked.status != CouponCode.Status.REDEEMED or locked.tab_id != tab_id:
            raise Refused(Code.UNKNOWN_COUPON)
        order_services.tab_adjustment_remove(tab_id=tab_id, kind=COUPON, ref=locked.code, user=user)
        _give_back(locked, user=user, reason="taken off")
    return locked


def _give_back(code: CouponCode, *, user: User | None, reason: str) -> None:
    """The code is usable again; its trail says why (`reason`, a key of GIVEN_BACK_WHY), and
    so does the statement of the member it was issued to."""
    tab_id = code.tab_id
    code.transition(CouponCode.Status.ISSUED, user=user, reason=reason)
    if code.member_id:
        members.coupon_noted(
            member_id=code.member_id, tab_id=tab_id, coupon=f"{code.coupon.name} {code}",
            why=reason, user=user,
        )  # fmt: skip
    _push_member(code)


def _push_member(code: CouponCode) -> None:
    """A member's coupon changed: their card and the till's page of them list it."""
    if code.member_id is not None:
        push_member_changed(code.member_id)


def coupons_give_back(*, tab_id: int) -> list[str]:
    """After a change of the bill (its receivers, and a refund that completes): a bill wholly
    voided (every dish off: what was paid is refunded) or wholly refunded gives its coupons
    back, once (the code's row lock and its status); a closed bill gives back those that took
    nothing off. A closed bill keeps its lines as they were (orders changes no closed bill).
    Returns the codes given back."""
    redeemed = CouponCode.objects.filter(tab_id=tab_id, status=CouponCode.Status.REDEEMED)
    if not redeemed.exists():  # most bills: no lock taken, nothing read
        return []
    with transaction.atomic():
        tab = order_services.lock_tab(tab_id)
        codes = list(
            CouponCode.objects.select_for_update(of=("self",))
            .select_related("coupon")
            .filter(tab_id=tab_id, status=CouponCode.Status.REDEEMED)
        )
        if not codes:
            return []
        settlement = build_settlement(tab_id)
        undone = bill_undone(settlement)
        voided = all(line["status"] == LineStatus.VOIDED for line in settlement["lines"])
        closed = tab.status == TabStatus.CLOSED
        unused = {
            row["ref"]
            for row in settlement["adjustments"]
            if row["kind"] == COUPON and not row["applied"]
        }
        if undone:
            reason = "bill voided" if voided else "bill refunded"
        else:
            reason = "bill closed without using it"
        back = []
        for code in codes:
            if undone and not closed:
                order_services.tab_adjustment_remove(tab_id=tab_id, kind=COUPON, ref=code.code)
            elif not (closed and (undone or code.code in unused)):
                continue
            _give_back(code, user=None, reason=reason)
            back.append(code.code)
    return back
