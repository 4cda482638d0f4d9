"""Coupons hear of bills changing (after commit): a bill that came to nothing gives its coupons
back; a closed bill gives back those it did not use."""

from typing import Any

from django.dispatch import receiver

from orders.settlement import TabStatus
from orders.signals import tab_status_changed, tab_total_changed

from . import services


@receiver(tab_total_changed)
def give_back_on_void(sender: Any, tab_id: int, **kwargs: Any) -> None:
    services.coupons_give_back(tab_id=tab_id)


@receiver(tab_status_changed)
def give_back_on_close(sender: Any, tab_id: int, new: str = "", **kwargs: Any) -> None:
    # Only a close can give a coupon back here (a bill paid, settled, keeps it); a void is heard
    # through tab_total_changed.
    if new == TabStatus.CLOSED:
        services.coupons_give_back(tab_id=tab_id)
