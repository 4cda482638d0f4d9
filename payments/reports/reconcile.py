"""Reconciliation (对账): a day's gateway bills against our payments and refunds.

A gateway's bill (`GatewayBill`: fetched by the worker, payments/bills.py, or uploaded by the
manager as the gateway's own file) lists what the gateway took and gave back on one calendar day
of Beijing time (gateways cut at midnight, not at our business day's 04:00). Each of its rows is
matched by merchant order number (`out_trade_no`, our `Payment.reference`, or a member's WeChat Pay
or Alipay top-up's `TopUp.reference`; refunds by our refund number `<reference>r<refund id>`, as
both providers send it) against our records:

- **matched**: both sides, the same amount;
- **missing here**: paid (or refunded) at the gateway, not recorded here: `reconcile_check` asks
  the gateway's query API and books the payment (or credits the top-up) when it is real (a late
  one is then given back in full, payments/README.md "Late success"); unknown order numbers are
  alerts;
- **missing there**: succeeded here on that day at that gateway, on no bill of that day or the
  days either side (a notification around midnight lands on the next day's bill);
- **amount differs**: both sides, different amounts.

The gateways' fees are summed from the bill. `reconcile_day` only reads (the Z report and the
page call it); `reconcile_check` is the one writer and calls gateways outside any transaction.

What is still wrong after the check is an **alert** for the manager (restaurant/lib/alerts.py),
raised once per order or refund number: missing here (unknown, not confirmed, no answer),
amount differs, and missing there once the next day's bills are in too (a payment just before
midnight may be on them). The worker's `reconcile` job (`reconcile_due`) checks yesterday once
its bills are in, and again whenever that day's bills change (a bill fetched late, a file
uploaded). A gateway that took or gave back money yesterday and whose bill is still not in at
BILL_LATE_HOUR is an alert of its own (`bills_missing_due`, the worker's `bills_missing` job).
"""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from restaurant.lib.alerts import Alert, alert_raise
from restaurant.lib.money import money
from restaurant.lib.once import run_claim, run_done, run_failed

from .. import providers, services
from ..bills import PARSERS
from ..members import topups
from ..members.models import TopUp, TopUpRefund
from ..models import GatewayBill, Method, Payment, Refund
from ..providers.base import GatewayUnknown

logger = logging.getLogger("payments")
CHINA = timezone.get_fixed_timezone(8 * 60)
# WeChat Pay and Alipay publish a day's bill after 10:00 the next day (Beijing time), and the
# `bills` job fetches it then, trying again every hour. At this hour the next day the worker
# reconciles with whichever bills are in, and a gateway that had trades that day and still has
# no bill is an alert ("bill missing"): four tries of the `bills` job have failed by then.
BILL_LATE_HOUR = 14


class Kind(models.TextChoices):
    MATCHED = "matched", _("Matched")
    MISSING_HERE = "missing_here", _("Paid at the gateway, not recorded here")
    MISSING_THERE = "missing_there", _("Recorded here, not at the gateway")
    AMOUNT_DIFFERS = "amount_differs", _("Amount differs")


@dataclass(frozen=True)
class Item:
    kind: Kind
    provider: str
    is_refund: bool
    out_trade_no: str
    refund_no: str
    gateway_amount: Decimal | None
    our_amount: Decimal | None
    fee: Decimal
    time: str  # as the gateway wrote it, or ours in local time
    payment: int | None = None  # our payment's id, when we have one
    refund: int | None = None
    tab: int | None = None  # the bill to act on
    our_status: str = ""  # our payment's status when it is not succeeded (missing here)
    top_up: int | None = None  # a member's top-up (no bill): its id
    member: int | None = None  # and its member, to act on


@dataclass
class Result:
    day: date
    bills: dict[str, GatewayBill | None]  # each gateway with bills: its bill of the day, or None
    items: list[Item] = field(default_factory=list)

    def of(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]

    @property
    def counts(self) -> dict[str, int]:
        return {kind: len(self.of(kind)) for kind in Kind.values}

    @property
    def fees(self) -> Decimal:
        return money(sum((item.fee for item in self.items), Decimal(0)))

    @property
    def gateway_net(self) -> Decimal:
        """What the gateways' bills say moved: payments − refunds."""
        return money(
            sum(
                (
                    -(item.gateway_amount or 0) if item.is_refund else item.gateway_amount or 0
                    for item in self.items
                ),
                Decimal(0),
            )
        )

    @property
    def missing_bills(self) -> list[str]:
        return [name for name, bill in self.bills.items() if bill is None]

    @property
    def balanced(self) -> bool:
        """Every bill present and every row matched."""
        return not self.missing_bills and all(i.kind == Kind.MATCHED for i in self.items)


def refund_number(reference: str, refund_id: int) -> str:
    """Our refund number at WeChat Pay (out_refund_no) and Alipay (out_request_no)."""
    return f"{reference}r{refund_id}"


def calendar_bounds(day: date) -> tuple[datetime, datetime]:
    """The gateways' day: midnight to midnight, Beijing time."""
    start = datetime.combine(day, time(0), tzinfo=CHINA)
    return start, start + timedelta(days=1)


def _amount(text: Any) -> Decimal:
    return money(Decimal(str(text or "0")))


def reconcile_day(day: date) -> Result:
    """The reconciliation of the gateways' bills of `day` (reads only)."""
    bills = {
        bill.provider: bill
        for bill in GatewayBill.objects.filter(bill_date=day, provider__in=list(PARSERS))
    }
    result = Result(day=day, bills={name: bills.get(name) for name in PARSERS})
    rows = [(name, row) for name, bill in bills.items() for row in bill.rows]
    references = {row["out_trade_no"] for _name, row in rows}
    payments = {
        p.reference: p for p in Payment.objects.filter(reference__in=references).only(
            "id", "reference", "amount", "status", "tab_id", "provider"
        )
    }  # fmt: skip
    refund_ids = {
        int(row["refund_no"].rpartition("r")[2])
        for _name, row in rows
        if row["kind"] == "refund" and row["refund_no"].rpartition("r")[2].isdigit()
    }
    refunds = {
        refund_number(r.payment.reference, r.pk): r
        for r in Refund.objects.filter(pk__in=refund_ids).select_related("payment")
    }
    top_ups = {t.reference: t for t in TopUp.objects.filter(reference__in=references)}
    top_up_refunds = {
        refund_number(r.top_up.reference or "", r.pk): r
        for r in TopUpRefund.objects.filter(pk__in=refund_ids).select_related("top_up")
    }
    for name, row in rows:
        if row["out_trade_no"] in top_ups:
            result.items.append(_match_top_up(name, row, top_ups, top_up_refunds))
        else:
            result.items.append(_match(name, row, payments, refunds))
    result.items += _ours_missing_there(day, list(bills))
    return result


def _match(
    name: str, row: dict[str, Any], payments: dict[str, Payment], refunds: dict[str, Refund]
) -> Item:
    theirs, fee = _amount(row["amount"]), _amount(row.get("fee"))
    common = {"provider": name, "out_trade_no": row["out_trade_no"], "fee": fee,
              "time": row.get("time", ""), "gateway_amount": theirs}  # fmt: skip
    payment = payments.get(row["out_trade_no"])
    if row["kind"] == "refund":
        refund = refunds.get(row["refund_no"])
        if refund is None or refund.status != Refund.Status.SUCCEEDED:
            return Item(
                kind=Kind.MISSING_HERE, is_refund=True, refund_no=row["refund_no"],
                our_amount=None, payment=payment.pk if payment else None,
                refund=refund.pk if refund else None, tab=payment.tab_id if payment else None,
                our_status=refund.status if refund else "", **common,
            )  # fmt: skip
        return Item(
            kind=Kind.MATCHED if refund.amount == theirs else Kind.AMOUNT_DIFFERS,
            is_refund=True, refund_no=row["refund_no"], our_amount=refund.amount,
            payment=refund.payment_id, refund=refund.pk, tab=refund.payment.tab_id, **common,
        )  # fmt: skip
    if payment is None or payment.status != Payment.Status.SUCCEEDED:
        return Item(
            kind=Kind.MISSING_HERE, is_refund=False, refund_no="", our_amount=None,
            payment=payment.pk if payment else None, tab=payment.tab_id if payment else None,
            our_status=payment.status if payment else "", **common,
        )  # fmt: skip
    return Item(
        kind=Kind.MATCHED if payment.amount == theirs else Kind.AMOUNT_DIFFERS,
        is_refund=False, refund_no="", our_amount=payment.amount, payment=payment.pk,
        tab=payment.tab_id, **common,
    )  # fmt: skip


def _match_top_up(
    name: str,
    row: dict[str, Any],
    top_ups: dict[str | None, TopUp],
    refunds: dict[str, TopUpRefund],
) -> Item:
    """A bill's row of a member's top-up (or of its refund), as `_match` does a payment's."""
    theirs, fee = _amount(row["amount"]), _amount(row.get("fee"))
    top_up = top_ups[row["out_trade_no"]]
    common = {"provider": name, "out_trade_no": row["out_trade_no"], "fee": fee,
              "time": row.get("time", ""), "gateway_amount": theirs, "top_up": top_up.pk,
              "member": top_up.member_id}  # fmt: skip
    if row["kind"] == "refund":
        refund = refunds.get(row["refund_no"])
        done = refund is not None and refund.is_done
        return Item(
            kind=(Kind.MATCHED if refund.amount == theirs else Kind.AMOUNT_DIFFERS)
            if refund is not None and done else Kind.MISSING_HERE,
            is_refund=True, refund_no=row["refund_no"],
            our_amount=refund.amount if refund is not None and done else None,
            our_status=refund.status if refund is not None and not done else "", **common,
        )  # fmt: skip
    if not top_up.is_paid:
        return Item(
            kind=Kind.MISSING_HERE, is_refund=False, refund_no="", our_amount=None,
            our_status=top_up.status, **common,
        )  # fmt: skip
    return Item(
        kind=Kind.MATCHED if top_up.amount == theirs else Kind.AMOUNT_DIFFERS,
        is_refund=False, refund_no="", our_amount=top_up.amount, **common,
    )  # fmt: skip


def _ours_missing_there(day: date, providers: list[str]) -> list[Item]:
    """Our succeeded QR payments and refunds of `day` at gateways whose bill we have, that no
    bill of that day or the days either side lists."""
    if not providers:
        return []
    listed: set[str] = set()
    for rows in GatewayBill.objects.filter(
        provider__in=providers, bill_date__range=(day - timedelta(days=1), day + timedelta(days=1))
    ).values_list("rows", flat=True):
        listed.update(row["refund_no"] or row["out_trade_no"] for row in rows)
    start, end = calendar_bounds(day)
    items = []
    for p in Payment.objects.filter(
        method=Method.QR, provider__in=providers, status=Payment.Status.SUCCEEDED,
        completed_at__gte=start, completed_at__lt=end,
    ).exclude(reference__in=listed):  # fmt: skip
        items.append(
            Item(
                kind=Kind.MISSING_THERE,
                provider=p.provider,
                is_refund=False,
                out_trade_no=p.reference,
                refund_no="",
                gateway_amount=None,
                our_amount=p.amount,
                fee=Decimal("0.00"),
                time=_local(p.completed_at),
                payment=p.pk,
                tab=p.tab_id,
            )  # fmt: skip
        )
    for r in Refund.objects.filter(
        payment__method=Method.QR, payment__provider__in=providers,
        status=Refund.Status.SUCCEEDED, completed_at__gte=start, completed_at__lt=end,
    ).select_related("payment"):  # fmt: skip
        number = refund_number(r.payment.reference, r.pk)
        if number in listed:
            continue
        items.append(
            Item(
                kind=Kind.MISSING_THERE,
                provider=r.payment.provider,
                is_refund=True,
                out_trade_no=r.payment.reference,
                refund_no=number,
                gateway_amount=None,
                our_amount=r.amount,
                fee=Decimal("0.00"),
                time=_local(r.completed_at),
                payment=r.payment_id,
                refund=r.pk,
                tab=r.payment.tab_id,
            )  # fmt: skip
        )
    items += _top_ups_missing_there(start, end, providers, listed)
    return items


def _top_ups_missing_there(
    start: datetime, end: datetime, providers: list[str], listed: set[str]
) -> list[Item]:
    """Members' gateway top-ups and their refunds that succeeded here and no bill lists."""
    items = []
    for t in TopUp.objects.filter(
        method=TopUp.Method.QR, provider__in=providers, status=TopUp.Status.SUCCEEDED,
        completed_at__gte=start, completed_at__lt=end,
    ).exclude(reference__in=listed):  # fmt: skip
        items.append(
            Item(
                kind=Kind.MISSING_THERE,
                provider=t.provider,
                is_refund=False,
                out_trade_no=t.reference or "",
                refund_no="",
                gateway_amount=None,
                our_amount=t.amount,
                fee=Decimal("0.00"),
                time=_local(t.completed_at),
                top_up=t.pk,
                member=t.member_id,
            )  # fmt: skip
        )
    for r in TopUpRefund.objects.filter(
        top_up__provider__in=providers, status=TopUpRefund.Status.SUCCEEDED,
        completed_at__gte=start, completed_at__lt=end,
    ).select_related("top_up"):  # fmt: skip
        number = refund_number(r.top_up.reference or "", r.pk)
        if number in listed:
            continue
        items.append(
            Item(
                kind=Kind.MISSING_THERE,
                provider=r.top_up.provider,
                is_refund=True,
                out_trade_no=r.top_up.reference or "",
                refund_no=number,
                gateway_amount=None,
                our_amount=r.amount,
                fee=Decimal("0.00"),
                time=_local(r.completed_at),
                top_up=r.top_up_id,
                member=r.top_up.member_id,
            )  # fmt: skip
        )
    return items


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def reconcile_check(*, day: date) -> list[tuple[Item, str]]:
    """For each payment the gateway's bill has and we do not: ask the gateway's query API and
    book it if the gateway says it is paid (once: a notification racing this is applied once).
    What is still wrong afterwards is raised as an alert (`reconcile_alert`). Returns (item,
    what happened) for each missing here. Gateway calls run with no transaction open."""
    done = []
    for item in reconcile_day(day).of(Kind.MISSING_HERE):
        if item.is_refund:
            known = item.refund or (item.top_up and item.our_status)
            outcome = REFUND_QUERIED if known else UNKNOWN
        elif item.top_up is not None:
            try:
                credited = topups.top_up_ask_gateway(top_up_id=item.top_up)
            except GatewayUnknown as error:  # no answer: asked again on the next check
                logger.warning("payments: reconciliation query of %s: %s", item.out_trade_no, error)
                outcome = NO_ANSWER
            else:
                outcome = RECORDED if credited else NOT_CONFIRMED
        elif item.payment is None:
            outcome = UNKNOWN
        else:
            try:
                booked = services.payment_ask_gateway(payment_id=item.payment)
            except GatewayUnknown as error:  # no answer: asked again on the next check
                logger.warning("payments: reconciliation query of %s: %s", item.out_trade_no, error)
                outcome = NO_ANSWER
            else:
                outcome = RECORDED if booked else NOT_CONFIRMED
        if outcome != RECORDED:
            logger.warning(
                "payments: reconciliation %s: %s %s at %s is not recorded here (%s)",
                day, "refund" if item.is_refund else "payment", item.refund_no
                or item.out_trade_no, item.provider, outcome,
            )  # fmt: skip
        done.append((item, outcome))
    reconcile_alert(
        day=day,
        outcomes={(i.provider, i.refund_no or i.out_trade_no): o for i, o in done},
        missing_there=_window_complete(day),
    )
    return done


# What asking the gateway gave, as the page's counts and the alerts read them (English words,
# translated when an alert is shown).
RECORDED = "recorded"
UNKNOWN = gettext_noop("unknown")
NOT_CONFIRMED = gettext_noop("not confirmed")
NO_ANSWER = gettext_noop("no answer")
REFUND_QUERIED = gettext_noop("refund: the worker's refund query settles it")
GATEWAY_NAMES = {"wechatpay": gettext_noop("WeChat Pay"), "alipay": gettext_noop("Alipay")}


def _window_complete(day: date) -> bool:
    """Whether "missing there" of `day` can be trusted: every gateway with a bill of `day` has
    its bill of the next day too (a payment just before midnight may be listed there), or that
    bill is long overdue (after noon two days later: the gateway had no trade that day)."""
    have = set(GatewayBill.objects.filter(bill_date=day).values_list("provider", flat=True))
    after = set(
        GatewayBill.objects.filter(bill_date=day + timedelta(days=1)).values_list(
            "provider", flat=True
        )
    )
    overdue = datetime.combine(day + timedelta(days=2), time(12), tzinfo=CHINA)
    return have <= after or timezone.now() >= overdue


def reconcile_alert(
    *,
    day: date,
    outcomes: dict[tuple[str, str], str] | None = None,
    missing_there: bool = True,
    only_missing_there: bool = False,
) -> int:
    """Raise an alert for each mismatch of `day` still there: missing here (`outcomes` says what
    asking the gateway gave; a refund we know is pending is left to the refund query), amount
    differs, and (`missing_there`) recorded here but on no gateway's bill. Each once: an alert
    raised before, handled or not, is not raised again. `only_missing_there`: the other kinds
    were raised by the day's own check. Returns how many were new."""
    outcomes = outcomes or {}
    link = reverse("payments:reconcile") + f"?day={day.isoformat()}"
    raised = 0
    for item in reconcile_day(day).items:
        if only_missing_there and item.kind != Kind.MISSING_THERE:
            continue
        number = item.refund_no or item.out_trade_no
        amount = item.gateway_amount if item.gateway_amount is not None else item.our_amount
        detail: dict[str, Any] = {
            "gateway": GATEWAY_NAMES.get(item.provider, item.provider),
            "day": day.isoformat(),
            "what": gettext_noop("refund") if item.is_refund else gettext_noop("payment"),
            "number": number,
            "amount": str(amount),
        }
        if item.kind == Kind.MISSING_HERE:
            outcome = outcomes.get((item.provider, number))
            if outcome is None:
                known = item.payment is not None or item.top_up is not None
                outcome = NOT_CONFIRMED if known else UNKNOWN
            if item.is_refund and item.our_status == "pending":
                continue  # a refund under way here: the worker's refund query settles it
            kind = Alert.Kind.MISSING_HERE
            detail["outcome"] = outcome
        elif item.kind == Kind.AMOUNT_DIFFERS:
            kind = Alert.Kind.AMOUNT_DIFFERS
            detail["ours"] = str(item.our_amount)
        elif item.kind == Kind.MISSING_THERE and missing_there:
            kind = Alert.Kind.MISSING_THERE
        else:
            continue
        key = f"reconcile:{item.provider}:{item.kind}:{'refund' if item.is_refund else 'payment'}:{number}"
        if alert_raise(key=key, kind=kind, detail=detail, link=link):
            raised += 1
    return raised


def _bills_stamp(day: date) -> tuple[list[str], str]:
    """The gateways with a bill of `day` and a short digest of those bills: the reconciliation
    of a day is done again when its bills change."""
    bills = sorted(
        GatewayBill.objects.filter(bill_date=day).values_list("provider", "digest", "fetched_at")
    )
    text = "|".join(f"{name}:{digest}:{fetched.isoformat()}" for name, digest, fetched in bills)
    return [name for name, _d, _f in bills], hashlib.sha256(text.encode()).hexdigest()[:16]


def reconcile_due(*, now: datetime | None = None) -> int:
    """The worker's job: reconcile yesterday (Beijing time, the gateways' day) once every
    gateway offered here has its bill of it (from 10:00, when the `bills` job fetches them; from
    14:00 with whatever bills there are), and again whenever that day's bills change. Once
    however many workers run (`run_claim` on the day and its bills' digest). It asks the
    gateways about what they have and we do not (`reconcile_check`), raises alerts, and raises
    the day before's "missing there", now that this day's bills are in. 1 when it reconciled."""
    now = now or timezone.now()
    local = now.astimezone(CHINA)
    if local.hour < 10:
        return 0
    day = local.date() - timedelta(days=1)
    present, digest = _bills_stamp(day)
    if not present:
        return 0
    offered = {p.name for p in providers.qr_gateways() if p.name in PARSERS}
    if not offered <= set(present) and local.hour < BILL_LATE_HOUR:
        return 0  # a bill still to come: the `bills` job tries again every hour
    period = f"{day.isoformat()}:{digest}"
    if not run_claim(job="reconcile", period=period, lease=timedelta(hours=1), now=now):
        return 0
    try:
        reconcile_check(day=day)
        reconcile_alert(day=day - timedelta(days=1), only_missing_there=True)
    except Exception as error:  # the worker logs it; tried again in an hour
        run_failed(
            job="reconcile", period=period, error=repr(error), retry_in=timedelta(hours=1), now=now
        )
        raise
    run_done(job="reconcile", period=period)
    return 1


def _trades(provider: str, day: date) -> int:
    """How many payments, refunds, members' top-ups and top-up refunds succeeded here through
    `provider` on the gateway's `day`: each is a row its bill of that day should list."""
    start, end = calendar_bounds(day)
    during = {"completed_at__gte": start, "completed_at__lt": end}
    return (
        Payment.objects.filter(
            method=Method.QR, provider=provider, status=Payment.Status.SUCCEEDED, **during
        ).count()
        + Refund.objects.filter(
            payment__method=Method.QR, payment__provider=provider,
            status=Refund.Status.SUCCEEDED, **during,
        ).count()
        + TopUp.objects.filter(
            method=TopUp.Method.QR, provider=provider, status=TopUp.Status.SUCCEEDED, **during
        ).count()
        + TopUpRefund.objects.filter(
            top_up__provider=provider, status=TopUpRefund.Status.SUCCEEDED, **during
        ).count()
    )  # fmt: skip


def bills_missing_due(*, now: datetime | None = None) -> int:
    """The worker's `bills_missing` job: from BILL_LATE_HOUR (Beijing time), each gateway with a
    bill parser (WeChat Pay, Alipay) that had trades here yesterday and whose bill of yesterday
    is still not in raises one "bill missing" alert for that gateway and day. Checked once per
    day however many workers run (`run_claim`; the alert's key is unique besides). Nothing
    resolves the alert by itself: when the bill comes later (fetched, or uploaded by the
    manager), the `reconcile` job reconciles the day as usual and the manager marks the alert
    handled. A shop without gateway trades that day is not told. Returns the alerts raised."""
    now = now or timezone.now()
    local = now.astimezone(CHINA)
    if local.hour < BILL_LATE_HOUR:
        return 0
    day = local.date() - timedelta(days=1)
    period = day.isoformat()
    if not run_claim(job="bills_missing", period=period, lease=timedelta(hours=1), now=now):
        return 0
    raised = 0
    try:
        present = set(GatewayBill.objects.filter(bill_date=day).values_list("provider", flat=True))
        for provider in PARSERS:
            if provider in present:
                continue
            count = _trades(provider, day)
            if not count:
                continue
            detail = {
                "gateway": GATEWAY_NAMES.get(provider, provider),
                "day": period,
                "by": f"{BILL_LATE_HOUR:02d}:00",
                "count": count,
            }
            link = reverse("payments:reconcile") + f"?day={period}"
            key = f"bill_missing:{provider}:{period}"
            if alert_raise(key=key, kind=Alert.Kind.BILL_MISSING, detail=detail, link=link):
                logger.warning("payments: the %s bill of %s is missing", provider, period)
                raised += 1
    except Exception as error:  # the worker logs it; tried again in an hour
        run_failed(
            job="bills_missing", period=period, error=repr(error),
            retry_in=timedelta(hours=1), now=now,
        )  # fmt: skip
        raise
    run_done(job="bills_missing", period=period)
    return raised


def day_result(day: date) -> dict[str, Any]:
    """The day's reconciliation as the Z report shows it, JSON-ready: whether it balanced, the
    gateways whose bill is missing, the count and amount of each kind, and the fees. The
    gateways publish a day's bill after 10:00 the next day, so a Z report printed at the close
    shows this live (`reconcile_day` again), not as kept at the close."""
    result = reconcile_day(day)
    kinds = {}
    for kind in Kind:
        items = result.of(kind)
        amount = sum(
            ((i.gateway_amount if i.gateway_amount is not None else i.our_amount) or Decimal(0)
             for i in items),
            Decimal(0),
        )  # fmt: skip
        kinds[kind.value] = {"count": len(items), "amount": str(money(amount))}
    return {
        "day": day.isoformat(),
        "balanced": result.balanced,
        "missing_bills": result.missing_bills,
        "kinds": kinds,
        "fees": str(result.fees),
        "gateway_net": str(result.gateway_net),
    }


def z_reconciliation(day: date) -> dict[str, Any] | None:
    """`day_result` as the Z report (page and API) shows it; None when there is nothing to
    reconcile: no gateway's bill of the day is in and nothing was paid through a gateway (a
    shop taking only cash and cards is not told every day that the gateways' bills are
    missing)."""
    result = day_result(day)
    if len(result["missing_bills"]) == len(PARSERS):
        start, end = calendar_bounds(day)
        paid = Payment.objects.filter(
            method=Method.QR, provider__in=list(PARSERS), status=Payment.Status.SUCCEEDED,
            completed_at__gte=start, completed_at__lt=end,
        )  # fmt: skip
        if not paid.exists():
            return None
    return result
