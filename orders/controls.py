"""Money controls: what a cashier may do alone, and where a manager approves (issue 11).

- Discounts: all of a bill's discounts together (its lines' and the bill's own) come to at most
  CASHIER_DISCOUNT_LIMIT_PERCENT of its subtotal. Checked on every change that moves either
  side, a discount set or a dish voided: a change that leaves the discounts further above the
  limit than they were needs a manager; taking a discount off never does. So a fixed bill
  discount never swallows a shrinking bill unseen: a void that would leave it above the limit
  (¥18 off a ¥180 bill, then the ¥168 dish voided) is refused until the cashier lowers the bill
  discount, or a manager approves the bill as it then is.
- Taking off a dish in one of VOID_APPROVAL_STATUSES (served, by default) needs a manager.
- Refunds by hand above CASHIER_REFUND_LIMIT: payments/services.py, with the same approval.

A manager acting needs nobody; the system (the worker taking off unpaid pay-first orders) is
not checked. A device token is not a person: its actions are checked as a cashier's, and a
manager approves them with their login like anyone's. Every approval is on the action's own
TabEvent (`approved_by`); every refusal of these controls is a TabEvent of kind `refused`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User

from restaurant.lib.approvals import NEEDS_MANAGER, Approval
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money, money_str, yuan
from restaurant.lib.roles import MANAGER, has_role

from .models import OrderLine, Tab, TabEvent


@dataclass(frozen=True)
class Discounts:
    total: Decimal
    limit: Decimal

    @property
    def excess(self) -> Decimal:
        return self.total - self.limit


def discounts(tab_id: int) -> Discounts:
    """The bill's discounts now and what a cashier may give on it (read under the tab's lock)."""
    lines = OrderLine.objects.filter(order__tab_id=tab_id).exclude(status=OrderLine.Status.VOIDED)
    subtotal, total = Decimal(0), Tab.objects.values_list("discount", flat=True).get(pk=tab_id)
    for unit_price, quantity, discount in lines.values_list("unit_price", "quantity", "discount"):
        subtotal += unit_price * quantity
        total += discount
    limit = money(subtotal * settings.CASHIER_DISCOUNT_LIMIT_PERCENT / 100)
    return Discounts(total=money(total), limit=limit)


def is_manager(user: User | None) -> bool:
    return user is not None and has_role(user, MANAGER)


def check_discounts(
    *, tab_id: int, before: Discounts, user: User | None, approval: Approval | None
) -> User | None:
    """After a change, inside its transaction: the manager who approved it, or None when it
    needs nobody. Raises (and so rolls the change back) when it needs a manager who did not."""
    after = discounts(tab_id)
    if after.excess <= 0 or after.excess <= before.excess or is_manager(user):
        return None
    needed = Refused(
        Code.DISCOUNT_OVER_LIMIT,
        discounts=yuan(after.total),
        limit=yuan(after.limit),
        extra={"discounts": money_str(after.total), "limit": money_str(after.limit)},
    )
    return (approval or Approval()).manager(user, needed)


def check_void(*, line: OrderLine, user: User | None, approval: Approval | None) -> User | None:
    """Before taking off `line`: the manager who approved it, or None when it needs nobody."""
    if line.status not in settings.VOID_APPROVAL_STATUSES or is_manager(user):
        return None
    needed = Refused(Code.VOID_NEEDS_MANAGER, dish=line.name, extra={"status": line.status})
    return (approval or Approval()).manager(user, needed)


def record_approval(
    *, tab_id: int, kind: str, user: User | None, approved_by: User | None, reason: str
) -> TabEvent:
    """An approved action of the payment side (a refund), in the tab's trail."""
    return TabEvent.objects.create(
        tab_id=tab_id,
        kind=kind,
        user=user if user is not None and user.is_authenticated else None,
        approved_by=approved_by,
        reason=reason[:200],
    )


@contextmanager
def refusals_recorded(
    *,
    tab_id: int,
    action: str,
    user: User | None,
    approval: Approval | None,
    line: OrderLine | None = None,
) -> Iterator[None]:
    """Run a controlled change; when the controls refuse it, the refusal is recorded in the tab's
    trail (after the change's transaction rolled back: wrap it, never run inside it)."""
    try:
        yield
    except Refused as refused:
        if refused.code in NEEDS_MANAGER:
            login = f" ({approval.login})" if approval and approval.login else ""
            TabEvent.objects.create(
                tab_id=tab_id,
                line=line,
                kind="refused",
                user=user if user is not None and user.is_authenticated else None,
                reason=f"{action}: {refused.code.value}{login}"[:200],
            )
        raise
