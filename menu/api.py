"""The menu as JSON for a mini-program or kiosk, read through the same selector as the page."""

from ninja import Router, Schema

from restaurant.money import money_str

from . import selectors

router = Router(tags=["menu"])


class OptionOut(Schema):
    id: int
    name: str
    name_en: str
    price: str

    @staticmethod
    def resolve_price(option):
        return money_str(option.price)


class OptionGroupOut(Schema):
    id: int
    name: str
    name_en: str
    required: bool
    min: int
    max: int
    options: list[OptionOut]

    @staticmethod
    def resolve_min(group):
        return group.min_choices

    @staticmethod
    def resolve_max(group):
        return group.max_choices


class DishOut(Schema):
    id: int
    name: str
    name_en: str
    description: str
    description_en: str
    price: str
    available: bool
    stock: int | None = None
    tags: list[str]
    photo: str | None = None
    option_groups: list[OptionGroupOut]

    @staticmethod
    def resolve_price(dish):
        return money_str(dish.price)

    @staticmethod
    def resolve_tags(dish):
        return [tag.name for tag in dish.tags.all()]

    @staticmethod
    def resolve_photo(dish):
        return dish.thumbnail.url if dish.thumbnail else None


class CategoryOut(Schema):
    id: int
    name: str
    name_en: str
    dishes: list[DishOut]


class MenuOut(Schema):
    categories: list[CategoryOut]


@router.get("/menu", response=MenuOut, summary="The menu: categories, dishes, options, stock")
def menu(request):
    """Active categories and dishes. `stock` is null when unlimited; `available` is false when a
    dish is sold out or has no portions left. Amounts are strings with two decimals."""
    return {"categories": selectors.menu_categories()}
