"""What the ordering side does when the menu tells it something (after commit)."""

from django.dispatch import receiver

from menu.signals import dish_availability_changed

from . import realtime


@receiver(dish_availability_changed)
def dish_availability_pushed(sender, dish_id, **kwargs):
    realtime.push_dish(dish_id)
