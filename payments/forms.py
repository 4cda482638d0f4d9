"""What the cashier's screen and the diner's pay page post, read at the edge (README, "Parse at
the edge"): each form gives typed values to a service, or refuses with the code and message the
API answers for the same mistake (payments/api.py's schemas)."""

import re

from django import forms
from django.core.exceptions import ValidationError

from restaurant.lib import parse
from restaurant.lib.errors import Code
from restaurant.lib.forms import AmountField, EdgeForm, KeyField, ReadField, WholeNumberField

from .coupons.models import CODE_ALPHABET
from .models import Method, Payment

SEPARATORS = re.compile(r"[\s-]+")


def coupon_code(value: object) -> str | None:
    """A coupon's code as typed or scanned, as stored: capitals, no spaces or dashes; None when
    it cannot be a code."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    code = SEPARATORS.sub("", value).upper()
    if not 0 < len(code) <= 20 or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def auth_code(value: object) -> str | None:
    """A payer's 付款码 as scanned: 16 to 24 ASCII digits, or None."""
    code = value.strip() if isinstance(value, str) else ""
    return code if parse.DIGITS.fullmatch(code) and 16 <= len(code) <= 24 else None


class MemberAuthForm(EdgeForm):
    """How a member shows it is them on the cashier's bill or the pay page: the scanned member
    code, or a mobile / member number and the PIN, each stripped; which of them is enough is
    the members' rule (`members.services.member_identify`)."""

    member_code = forms.CharField(required=False)
    member_login = forms.CharField(required=False)
    member_pin = forms.CharField(required=False)


class PaymentForm(EdgeForm):
    """The cashier takes a payment. A blank amount is what is due (the view asks); 付款码 only
    with QR pay (the field is ignored with cash and card, as the screen hides it)."""

    method = forms.ChoiceField(choices=Method.choices)
    key = KeyField(required=True)
    amount = AmountField()
    version = WholeNumberField(required=True)
    terminal_ref = forms.CharField(required=False)
    auth_code = forms.CharField(required=False)
    refusals = {
        "method": Code.BAD_METHOD,
        "key": Code.BAD_KEY,
        "amount": Code.BAD_AMOUNT,
        "version": Code.BAD_VERSION,
    }

    def clean_auth_code(self) -> str:
        raw = self.cleaned_data["auth_code"]
        if self.cleaned_data.get("method") != Method.QR or not raw:
            return ""
        code = auth_code(raw)
        if code is None:
            raise ValidationError("not a payment code", code=Code.BAD_AUTH_CODE.value)
        return code


class DinerPaymentForm(EdgeForm):
    """A phone pays the whole bill, an equal share (AA) or its own dishes, by QR."""

    CHOICES = [(Payment.Scope.BALANCE, ""), (Payment.Scope.SHARE, ""), (Payment.Scope.MINE, "")]

    choice = forms.ChoiceField(choices=CHOICES, required=False)
    people = forms.CharField(required=False)
    key = KeyField(required=True)
    version = WholeNumberField(required=True)
    gateway = forms.CharField(required=False)
    refusals = {
        "choice": Code.BAD_CHOICE,
        "key": Code.BAD_KEY,
        "version": Code.BAD_VERSION,
    }

    def clean_choice(self) -> str:
        return self.cleaned_data["choice"] or Payment.Scope.BALANCE

    def clean_people(self) -> int | None:
        """Split between 2 and 50 people; asked only of an equal share."""
        if self.cleaned_data.get("choice") != Payment.Scope.SHARE:
            return None
        people = parse.whole_number(self.cleaned_data["people"])
        if people is None or not 2 <= people <= 50:
            raise ValidationError("not 2 to 50 people", code=Code.BAD_PEOPLE.value)
        return people


class CouponForm(EdgeForm):
    """A coupon's code, at the till or on the phone; one that cannot be a code is unknown."""

    code = ReadField(coupon_code, required=True)
    refusals = {"code": Code.UNKNOWN_COUPON}


class DiscountForm(EdgeForm):
    """A discount in yuan on a line or the whole bill; 0 takes it off. The reason's rules (one
    is needed above 0) are the service's."""

    amount = AmountField(required=True)
    reason = forms.CharField(required=False)
    refusals = {"amount": Code.BAD_AMOUNT}


class RefundForm(EdgeForm):
    amount = AmountField(required=True)
    reason = forms.CharField(required=False)
    key = KeyField(required=False)
    refusals = {"amount": Code.BAD_AMOUNT, "key": Code.BAD_KEY}
