"""Writes of the menu that other screens must see at once."""

from typing import Any

from django.db import transaction

from restaurant.lib.errors import Code, Refused

from .models import Dish, MenuState
from .signals import dish_availability_changed

UNCHANGED = object()


def dish_set_availability(*, dish_id, sold_out=UNCHANGED, stock=UNCHANGED):
    """估清: mark a dish sold out (or back), or set how many portions are left (None: unlimited).

    Every open diner menu and every cart holding the dish hear of it after commit.
    """
    fields: dict[str, Any] = {}
    if sold_out is not UNCHANGED:
        fields["sold_out"] = bool(sold_out)
    if stock is not UNCHANGED:
        if stock is not None and (
            isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= 99999
        ):
            raise Refused(Code.BAD_STOCK)
        fields["stock"] = stock
    with transaction.atomic():
        if not fields:
            raise Refused(Code.NOTHING_TO_CHANGE)
        if not Dish.objects.filter(pk=dish_id).update(**fields):
            raise Refused(Code.UNKNOWN_DISH, dish=dish_id)
        MenuState.bump()
        transaction.on_commit(
            lambda: dish_availability_changed.send(sender=Dish, dish_id=dish_id), robust=True
        )
    return Dish.objects.get(pk=dish_id)
