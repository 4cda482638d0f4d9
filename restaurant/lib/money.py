"""Money is Decimal with two places, computed on the server, never float."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

CENT = Decimal("0.01")


class MoneyField(models.DecimalField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        return name, "restaurant.lib.money.MoneyField", args, kwargs


def money(value: Decimal | int | str) -> Decimal:
    """Round to the cent, half up, as a cashier would."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal | int | str) -> str:
    """`"38.00"`: how amounts travel in JSON."""
    return str(money(value))


def yuan(value: Decimal | int | str) -> str:
    """`¥38` or `¥38.50` for people."""
    amount = money(value)
    text = f"{amount:,.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    return f"¥{text}"
