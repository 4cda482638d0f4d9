"""The members' stream: `member.<id>`, one event whenever a member's figures, statement, status
or coupons change (every statement line is one; restaurant.lib.realtime numbers and sends it
after the commit). Two screens follow it: the member's own card on their phone (opened with
the PIN) and the till's page of that member. Each re-renders its own regions from its page's
partials; neither shows the member code, which the phone asks for by itself every minute."""

from django.template.loader import render_to_string

from restaurant.lib.realtime import publish_on_commit

from . import selectors

CARD = "card"  # the member's phone
TILL = "till"  # the till's page of the member


def member_stream(member_id: int) -> str:
    return f"member.{member_id}"


def push_member_changed(member_id: int) -> None:
    """The member's screens, once, after the transaction commits."""
    publish_on_commit(member_stream(member_id), kind="member", member=member_id)


def render_card(member_id: int) -> str:
    """The phone's frozen notice, figures, statement and coupons (members/page.html)."""
    member = selectors.member_by_id(member_id)
    if member is None or member.is_erased:
        return ""
    context = {**selectors.card_view(member), "oob": True}
    return render_to_string("members/page.html#frozen", context) + render_to_string(
        "members/page.html#card", context
    )


def render_till(member_id: int) -> str:
    """The till's figures, coupons and statement of the member (members/member.html)."""
    member = selectors.member_by_id(member_id)
    if member is None:
        return ""
    context = {**selectors.till_view(member), "oob": True}
    return render_to_string("members/member.html#live", context)
