"""What the diner's page, the kitchen and the staff pages post, read at the edge (README, "Parse
at the edge"): each form gives typed values to a service, or refuses with the code and message
the API answers for the same mistake (orders/api.py's schemas)."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict

from menu.selectors import dish_name
from restaurant.lib import parse
from restaurant.lib.errors import Code
from restaurant.lib.forms import EdgeForm, WholeNumberField, WholeNumbersField

from .models import OrderLine

# The largest id a table's key holds: a bigger one cannot be a dish (and would overflow a query).
MAX_ID = 2**63 - 1


class VisitForm(EdgeForm):
    """The visit (tab) a diner's page showed, blank when it showed none; another value is no
    visit this table has now."""

    tab = WholeNumberField(maximum=MAX_ID)
    refusals = {"tab": Code.TAB_CLOSED}


class CartAddForm(EdgeForm):
    """A dish into the shared cart. A blank quantity is one."""

    dish = WholeNumberField(required=True, maximum=MAX_ID)
    quantity = WholeNumberField()
    options = WholeNumbersField(refusal=Code.BAD_OPTIONS, name="option", required=False)
    note = forms.CharField(required=False)
    hold = forms.BooleanField(required=False)
    refusals = {"dish": Code.UNKNOWN_DISH, "quantity": Code.BAD_QUANTITY}

    @classmethod
    def posted(cls, post: QueryDict) -> dict[str, Any]:
        """The form's fields from the page: single choices come as option-<group> radios,
        multiple ones as `options` checkboxes; the hold box sends "1"."""
        options = post.getlist("options") + [
            value for name in post if name.startswith("option-") for value in post.getlist(name)
        ]
        return cls.parse(
            {
                "dish": post.get("dish", ""),
                "quantity": post.get("quantity", ""),
                "options": options,
                "note": post.get("note", ""),
                "hold": post.get("hold") == "1",
            }
        )

    def params(self) -> dict[str, Any]:
        # An option that is not a number is named with its dish, as the menu's rules name one.
        dish = self.cleaned_data.get("dish")
        name = dish_name(dish) if dish is not None else None
        return {"max": settings.MAX_LINE_QUANTITY, "dish": name or self.data.get("dish")}

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data["quantity"]
        return 1 if quantity is None else quantity


class CartQuantityForm(EdgeForm):
    """Any phone at the table changes a line of the cart; 0 takes it out."""

    quantity = WholeNumberField(required=True)
    refusals = {"quantity": Code.BAD_QUANTITY}

    def params(self) -> dict[str, Any]:
        return {"max": settings.MAX_LINE_QUANTITY}


class CartSubmitForm(EdgeForm):
    """下单: the cart as the page showed it (its version), and the guests with the first order."""

    cart_version = WholeNumberField(required=True)
    guests = WholeNumberField()
    refusals = {"cart_version": Code.CART_CHANGED, "guests": Code.BAD_GUESTS}

    def params(self) -> dict[str, Any]:
        return {"max": settings.MAX_GUESTS}


class LineStatusForm(EdgeForm):
    """A named move of a dish; `expect` is the status the screen showed."""

    status = forms.ChoiceField(choices=OrderLine.Status.choices)
    expect = forms.ChoiceField(choices=OrderLine.Status.choices, required=False)
    # A screen that showed a status the dish cannot have showed something else than the dish.
    refusals = {"status": Code.BAD_STATUS, "expect": Code.LINE_MOVED}

    def clean_status(self) -> OrderLine.Status:
        return OrderLine.Status(self.cleaned_data["status"])

    def clean_expect(self) -> OrderLine.Status | None:
        expect = self.cleaned_data["expect"]
        return OrderLine.Status(expect) if expect else None


class StockForm(EdgeForm):
    """估清: sold out or back on, or how many portions are left (blank: no limit)."""

    dish = WholeNumberField(required=True, maximum=MAX_ID)
    sold_out = forms.CharField(required=False)  # "1" sold out, anything else back on
    stock = forms.CharField(required=False)
    refusals = {"dish": Code.UNKNOWN_DISH}

    def clean_sold_out(self) -> bool | None:
        return self.cleaned_data["sold_out"] == "1" if "sold_out" in self.data else None

    def clean_stock(self) -> int | None:
        """None leaves the stock as it is; `unlimited` (below) says a blank one was sent."""
        if "stock" not in self.data or not self.cleaned_data["stock"]:
            return None
        stock = parse.whole_number(self.cleaned_data["stock"])
        if stock is None:
            raise ValidationError("not a number", code=Code.BAD_STOCK.value)
        return stock

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["unlimited"] = "stock" in self.data and not (self.data.get("stock") or "").strip()
        return cleaned
