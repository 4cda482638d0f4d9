"""Writes of the menu that other screens must see at once."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from restaurant.lib.audit import AuditEntry, audit_record
from restaurant.lib.errors import Code, Refused

from .models import Dish, MenuState
from .signals import dish_availability_changed

MAX_STOCK = 99999


def dish_set_availability(
    *,
    dish_id: int,
    sold_out: bool | None = None,
    stock: int | None = None,
    unlimited: bool = False,
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> Dish:
    """估清: mark a dish sold out (or back), set how many portions are left, or make it
    unlimited; None leaves that part as it is. The edges (the 估清 form, the API's schema) parse
    what people typed; this holds the rules.

    Every open diner menu and every cart holding the dish hear of it after commit; the change
    and who made it go into the audit trail.
    """
    fields: dict[str, Any] = {}
    if sold_out is not None:
        fields["sold_out"] = sold_out
    if unlimited:
        fields["stock"] = None
    elif stock is not None:
        if not 0 <= stock <= MAX_STOCK:
            raise Refused(Code.BAD_STOCK)
        fields["stock"] = stock
    with transaction.atomic():
        if not fields:
            raise Refused(Code.NOTHING_TO_CHANGE)
        before = Dish.objects.filter(pk=dish_id).values("name", *fields).first()
        if before is None or not Dish.objects.filter(pk=dish_id).update(**fields):
            raise Refused(Code.UNKNOWN_DISH, dish=dish_id)
        audit_record(
            kind=AuditEntry.Kind.STOCK,
            user=user,
            subject=before.pop("name"),
            detail={"dish": dish_id, "from": before, "to": fields},
        )
        MenuState.bump()
        transaction.on_commit(
            lambda: dish_availability_changed.send(sender=Dish, dish_id=dish_id), robust=True
        )
    return Dish.objects.get(pk=dish_id)
