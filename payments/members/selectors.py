"""Reads of members: finding them, their statement, and the books' figure of what is owed."""

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from restaurant.lib.spreadsheet import text_cell

from ..models import LedgerEntry
from .models import Member, Move, TopUp


def members_find(query: str, *, limit: int = 50) -> list[Member]:
    """Members whose mobile or number holds the digits typed, or whose name holds the text."""
    text = query.strip()[:40]
    found: QuerySet[Member] = Member.objects.select_related("level")
    if text:
        found = found.filter(
            Q(mobile__contains=text) | Q(number__contains=text) | Q(name__icontains=text)
        )
    return list(found.order_by("-created_at", "-id")[:limit])


def member_by_id(member_id: int) -> Member | None:
    return Member.objects.select_related("level").filter(pk=member_id).first()


def member_by_link(token: str) -> Member | None:
    return Member.objects.select_related("level").filter(link_token=token).first()


def statement(member: Member, *, limit: int = 200) -> list[Move]:
    """The member's moves, newest first, with who made them."""
    moves = Move.objects.filter(member=member).select_related("user", "payment", "top_up")
    return list(moves.order_by("-created_at", "-id")[:limit])


def coupons(member: Member) -> list[Any]:
    """The coupons issued to the member (payments/coupons), newest first, with their use."""
    return list(member.coupons.select_related("coupon").order_by("-created_at", "-id"))


def top_ups(member: Member) -> list[TopUp]:
    return list(TopUp.objects.filter(member=member).order_by("-created_at", "-id"))


def card_view(member: Member) -> dict[str, Any]:
    """What the member's own card shows besides its code: figures, recent moves, coupons."""
    return {"member": member, "moves": statement(member, limit=50), "coupons": coupons(member)}


def till_view(member: Member) -> dict[str, Any]:
    """What the till's page of a member shows live: figures, the statement, coupons."""
    return {"member": member, "moves": statement(member), "coupons": coupons(member)}


def card_open_until(session: Any, member_id: int) -> float:
    """Until when (a Unix time) this browser's session has the member's card open with the PIN;
    0 if it has not. The session holds {member id: until} under "members"."""
    opened = session.get("members", {}) if session is not None else {}
    until = opened.get(str(member_id), 0) if isinstance(opened, dict) else 0
    return float(until) if isinstance(until, int | float) else 0.0


def pending_top_up(member: Member) -> TopUp | None:
    """The member's newest WeChat Pay or Alipay top-up still waiting for its gateway (read as
    expired once overdue), or None."""
    newest = TopUp.objects.filter(member=member, status=TopUp.Status.PENDING).last()
    return newest if newest is not None and newest.status_now() == TopUp.Status.PENDING else None


def owed_to_members() -> Decimal:
    """What the ledger says is owed to members (预收款): equals the sum of their balances."""
    entries = LedgerEntry.objects.filter(account=LedgerEntry.Account.MEMBER)
    return entries.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def export_rows() -> list[list[str]]:
    """The member list for the manager's CSV: no PIN, no private link."""
    rows = [["number", "mobile", "name", "birthday", "level", "status", "principal", "bonus",
             "points", "joined"]]  # fmt: skip
    for member in Member.objects.select_related("level").order_by("created_at", "id"):
        rows.append(
            [
                member.number,
                member.mobile or "",
                text_cell(member.name),
                member.birthday.isoformat() if member.birthday else "",
                text_cell(member.level.name),
                member.status,
                str(member.principal),
                str(member.bonus),
                str(member.points),
                member.created_at.isoformat(),
            ]
        )
    return rows
