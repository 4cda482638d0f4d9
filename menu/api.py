"""The menu as JSON for a mini-program or kiosk, read through the same selector as the page."""

from ninja import Field, Router, Schema
from pydantic import StrictBool, StrictInt

from restaurant.lib.api_auth import StaffAuth
from restaurant.lib.money import money_str
from restaurant.lib.roles import KITCHEN

from . import selectors, services

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
    member_price: str | None = Field(
        None, description="会员价, with a member on the bill (the lower of it and the level's rate)"
    )
    available: bool
    stock: int | None = None
    tags: list[str]
    photo: str | None = None
    option_groups: list[OptionGroupOut]

    @staticmethod
    def resolve_price(dish):
        return money_str(dish.price)

    @staticmethod
    def resolve_member_price(dish):
        return money_str(dish.member_price) if dish.member_price is not None else None

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


class AvailabilityIn(Schema):
    # JSON true/false only: "yes", "1" or 1 are refused with 400, as `hold` is (parse.py).
    sold_out: StrictBool | None = None
    stock: StrictInt | None = None
    unlimited: StrictBool = False


class AvailabilityOut(Schema):
    id: int
    available: bool
    sold_out: bool
    stock: int | None


class MenuErrorOut(Schema):
    error: str
    message: str


@router.post(
    "/kitchen/dishes/{dish}/availability",
    response={200: AvailabilityOut, 400: MenuErrorOut, 401: MenuErrorOut},
    auth=StaffAuth(KITCHEN),
    summary="估清: mark a dish sold out or back, or set the portions left",
)
def dish_availability(request, dish: int, payload: AvailabilityIn):
    """`stock` sets the portions left; `unlimited: true` clears the count. Every open menu and
    every cart holding the dish hear of it at once."""
    return services.dish_set_availability(
        dish_id=dish,
        sold_out=payload.sold_out,
        stock=payload.stock,
        unlimited=payload.unlimited,
        user=request.user,
    )
