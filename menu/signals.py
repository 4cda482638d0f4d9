"""Any edit of what a diner's menu shows changes the menu version, which drops the cached menu.

Only the version is touched here; nothing is broadcast from a signal.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal, receiver

from .models import Category, Dish, MenuState, Option, OptionGroup, Station, Tag

MENU_MODELS = (Category, Dish, Tag, OptionGroup, Option, Station)


@receiver(post_save)
@receiver(post_delete)
def menu_changed(sender, **kwargs):
    if sender in MENU_MODELS and not kwargs.get("raw"):
        MenuState.bump()


@receiver(m2m_changed, sender=Dish.tags.through)
def dish_tags_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        MenuState.bump()


# Sent after commit when a dish becomes available or not (估清, stock set, last portion sold),
# with `dish_id`; the ordering side pushes it to every open menu and cart.
dish_availability_changed = Signal()
