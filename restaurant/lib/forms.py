"""Forms of the HTML actions: what a page posts, read at the edge into typed values.

A form that does not parse refuses with a code of `Code`, the same code and message the API
answers for the same mistake (restaurant/lib/schemas.py), and the service is never called.
`EdgeForm.parse()` raises the refusal of the first field, in the order the fields are declared,
so a page's answer never depends on the order of the posted fields.
"""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from restaurant.lib import parse
from restaurant.lib.errors import CODES, Code, Refused
from restaurant.lib.money import money


class ReadField(forms.Field):
    """A field read by one of `restaurant.lib.parse`'s readers (ASCII digits only): blank is
    None, and anything the reader gives None for is invalid."""

    def __init__(self, reader: Callable[[object], Any], **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.reader = reader

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        parsed = self.reader(value)
        if parsed is None:
            raise ValidationError("not readable", code="invalid")
        return parsed


class WholeNumberField(ReadField):
    """0, 1, 2 … in ASCII digits; above `maximum` is invalid (an id beyond a 64-bit key)."""

    def __init__(self, *, maximum: int | None = None, **kwargs: Any) -> None:
        super().__init__(parse.whole_number, **kwargs)
        self.maximum = maximum

    def to_python(self, value: Any) -> int | None:
        number: int | None = super().to_python(value)
        if number is not None and self.maximum is not None and number > self.maximum:
            raise ValidationError("too big", code="invalid")
        return number


class AmountField(ReadField):
    """Yuan with at most two decimals, `"12.50"` or `12`, as a Decimal of two places."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(parse.amount, **kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        amount = super().to_python(value)
        return None if amount is None else money(amount)


class KeyField(ReadField):
    """An idempotency key: 1 to 64 characters, spaces around dropped."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(parse.key, **kwargs)


class WholeNumbersField(forms.Field):
    """Several whole numbers under one name (checkboxes), as a list of int. One that is not
    refuses with `refusal`, its message naming it as `name` (`option=…`)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, refusal: Code, name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.refusal, self.name = refusal, name

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [] if value is None else [value]
        numbers = []
        for item in values:
            number = parse.whole_number(item)
            if number is None:
                raise ValidationError(
                    "not a whole number", code=self.refusal.value, params={self.name: item}
                )
            numbers.append(number)
        return numbers


class EdgeForm(forms.Form):
    """A form whose every failure is a `Refused`.

    `refusals` names the code of each field that can fail; a validator may raise a code of its
    own instead (`ValidationError(..., code=Code.X.value, params=…)`). The refusal's message may
    name the field's raw value by the field's name (`%(dish)s`) and what `params()` gives.
    """

    refusals: ClassVar[Mapping[str, Code]] = {}

    def params(self) -> dict[str, Any]:
        """Values the refusals' messages name (a limit from the settings)."""
        return {}

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The cleaned values, or the refusal of the first field that does not parse."""
        form = cls(data)
        if not form.is_valid():
            raise form.refusal()
        return form.cleaned_data

    def refusal(self) -> Refused:
        errors = self.errors.as_data()
        for name in [*self.fields, NON_FIELD_ERRORS]:
            for error in errors.get(name, []):
                params = {**self.params(), "problems": name, name: self.data.get(name, "")}
                # Django's own codes ("required", "invalid") are the field's refusal.
                if error.code in CODES and error.code != Code.INVALID:
                    return Refused(CODES[error.code], **{**params, **(error.params or {})})
                return Refused(self.refusals.get(name, Code.INVALID), **params)
        return Refused(Code.INVALID, problems=", ".join(errors))


class ReasonForm(EdgeForm):
    """退菜 and the like on any staff screen: the reason as typed (its rules, one is needed and
    at most 200 characters, are the service's)."""

    reason = forms.CharField(required=False)
