"""Typed fields of the API's schemas, read at the edge as the pages' forms read theirs.

A field that does not parse fails the schema with a code of `Code` as its error type
(`refusing`); restaurant/api.py answers such a body with that code and its message, the same
as a page gets for the same mistake (restaurant/lib/forms.py). Other schema errors (a missing
field, a wrong JSON type) answer `400 invalid` with each problem spelled out.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, PlainValidator, StrictInt, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from restaurant.lib import parse
from restaurant.lib.errors import Code
from restaurant.lib.money import money


def refusal(code: Code, **params: Any) -> PydanticCustomError:
    """A schema error that restaurant/api.py answers as `code` (its params fill the message)."""
    return PydanticCustomError(code.value, code.value, params)


def refusing(reader: Callable[[Any], Any], code: Code, *, name: str = "") -> Callable[[Any], Any]:
    """A validator: `reader`'s value, or the refusal `code` when it gives None (its message
    names the value sent as `name`, when given)."""

    def read(value: Any) -> Any:
        parsed = reader(value)
        if parsed is None:
            raise refusal(code, **({name: value} if name else {}))
        return parsed

    return read


def _yuan(value: Any) -> Decimal | None:
    amount = parse.amount(value)
    return None if amount is None else money(amount)


def _whole(value: int) -> int | None:
    return value if value >= 0 else None


def _id(value: int) -> int | None:
    """An id a 64-bit key can hold: a bigger one is nothing of ours (and would overflow)."""
    return value if 0 < value < 2**63 else None


# Yuan as a string ("12.50") or a whole number (12), never a float: `400 bad_amount` otherwise.
Yuan = Annotated[
    Decimal,
    PlainValidator(refusing(_yuan, Code.BAD_AMOUNT)),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": parse.AMOUNT.pattern}, {"type": "integer"}]}
    ),
]
# An idempotency key: 1 to 64 characters (spaces around are dropped), `400 bad_key` otherwise.
Key = Annotated[str, AfterValidator(refusing(parse.key, Code.BAD_KEY))]

# Text as typed or scanned, spaces at either end taken off before any length is checked.
Stripped = Annotated[str, StringConstraints(strip_whitespace=True)]
# The settlement's version a payment was computed from: `400 bad_version` when negative.
Version = Annotated[StrictInt, AfterValidator(refusing(_whole, Code.BAD_VERSION))]
# A dish's id: `400 unknown_dish` when no dish can have it.
DishId = Annotated[StrictInt, AfterValidator(refusing(_id, Code.UNKNOWN_DISH, name="dish"))]
