"""Reads of the menu that pages and the API share; the query count does not grow with dishes."""

from django.db.models import Prefetch

from .models import Category, Dish, MenuState, Option, OptionGroup, Station

# The menu's version as an SQL subquery, for a page to read it in the round trip of a query it
# makes anyway; NULL before the menu's state row exists (then `menu_version()`).
VERSION_SQL = f'SELECT "version" FROM "{MenuState._meta.db_table}" WHERE "id" = 1'


def menu_version() -> str:
    return MenuState.current()


def menu_categories() -> list[Category]:
    """Active categories with their active dishes, tags, option groups and options: 5 queries."""
    groups = OptionGroup.objects.prefetch_related(
        Prefetch("options", queryset=Option.objects.filter(active=True))
    )
    dishes = (
        Dish.objects.filter(active=True)
        .select_related("station")
        .prefetch_related("tags", Prefetch("option_groups", queryset=groups))
    )
    categories = Category.objects.filter(active=True).prefetch_related(
        Prefetch("dishes", queryset=dishes)
    )
    return [category for category in categories if category.dishes.all()]


def dish_card(dish_id: int) -> Dish | None:
    """One dish as its menu card shows it (for a sold-out push), or None when it is off the menu."""
    groups = OptionGroup.objects.prefetch_related(
        Prefetch("options", queryset=Option.objects.filter(active=True))
    )
    return (
        Dish.objects.filter(pk=dish_id, active=True)
        .prefetch_related("tags", Prefetch("option_groups", queryset=groups))
        .first()
    )


def dish_name(dish_id: int) -> str | None:
    """A dish's name, to name it in a refusal; None when there is no such dish."""
    return Dish.objects.filter(pk=dish_id).values_list("name", flat=True).first()


def stock_list(station: Station | None = None) -> list[Dish]:
    """Dishes on the menu for the 估清 page, a station's only when one is given."""
    dishes = Dish.objects.filter(active=True).select_related("category")
    if station is not None:
        dishes = dishes.filter(station=station)
    return list(dishes)
