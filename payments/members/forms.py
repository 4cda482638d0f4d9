"""What the members' pages post, read at the edge (README, "Parse at the edge"): yuan, points
and ids become Decimal and int here, or the page is refused with the code and message the
service would give; the services take typed values and keep only the members' rules."""

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from restaurant.lib import parse
from restaurant.lib.errors import Code
from restaurant.lib.forms import AmountField, EdgeForm, KeyField, ReadField, WholeNumberField
from restaurant.lib.money import money

from ..forms import auth_code
from .models import TopUp
from .services import MOBILE, PIN


def signed_amount(value: object) -> Decimal | None:
    """Yuan that may go down ("-12.50"), or None."""
    text = value.strip() if isinstance(value, str) else value
    negative = isinstance(text, str) and text.startswith("-")
    amount = parse.amount(text[1:] if negative and isinstance(text, str) else text)
    if amount is None:
        return None
    return -money(amount) if negative else money(amount)


def signed_points(value: object) -> int | None:
    """Whole points that may go down ("-5"), at most what a wallet holds, or None."""
    text = value.strip() if isinstance(value, str) else str(value)
    negative = text.startswith("-")
    number = parse.whole_number(text[1:] if negative else text)
    if number is None or number > 2**31 - 1:
        return None
    return -number if negative else number


def birthday(value: object) -> date | None:
    """A birthday as the date input sends it ("1990-05-20"), from 1900 to today, or None (a
    birthday in 9999 or tomorrow is a slip of the finger, not a member's)."""
    try:
        found = date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None
    return found if found and date(1900, 1, 1) <= found <= timezone.localdate() else None


def _mobile(value: str) -> None:
    if value and not MOBILE.fullmatch(value):
        raise ValidationError("not a mobile", code="invalid")


def _pin(value: str) -> None:
    if value and not PIN.fullmatch(value):
        raise ValidationError("not a PIN", code="invalid")


class JoinForm(EdgeForm):
    """Joining, at the till or from the table's page: only what the person chooses to give."""

    mobile = forms.CharField(required=False, validators=[_mobile])
    name = forms.CharField(required=False, max_length=40)
    birthday = ReadField(birthday)
    pin = forms.CharField(required=False, validators=[_pin])
    key = KeyField()  # the till's form: the same key again is the same member
    refusals = {
        "mobile": Code.BAD_MOBILE,
        "name": Code.BAD_MEMBER_NAME,
        "birthday": Code.BAD_BIRTHDAY,
        "pin": Code.BAD_PIN,
        "key": Code.BAD_KEY,
    }

    def clean_mobile(self) -> str | None:
        return self.cleaned_data["mobile"] or None

    def clean_pin(self) -> str | None:
        return self.cleaned_data["pin"] or None


class PinForm(EdgeForm):
    """A new PIN: six digits."""

    pin = forms.CharField(validators=[_pin])
    refusals = {"pin": Code.BAD_PIN}


class PinTryForm(EdgeForm):
    """The PIN typed to open the member's page, as typed: a wrong one of any shape counts."""

    pin = forms.CharField(required=False)


def _positive(value: Decimal | None) -> Decimal | None:
    if value is not None and value <= 0:
        raise ValidationError("not above zero", code="invalid")
    return value


class TopUpForm(EdgeForm):
    """储值 at the till: yuan above zero, cash, card (with the terminal's reference), or WeChat
    Pay / Alipay: the member's 付款码 scanned, or else a QR code of the gateway chosen."""

    amount = AmountField(required=True, validators=[_positive])
    method = forms.ChoiceField(choices=TopUp.Method.choices)
    key = KeyField(required=True)
    terminal_ref = forms.CharField(required=False)
    auth_code = forms.CharField(required=False)
    gateway = forms.CharField(required=False, max_length=20)
    refusals = {
        "amount": Code.BAD_AMOUNT,
        "method": Code.BAD_METHOD,
        "key": Code.BAD_KEY,
        "gateway": Code.METHOD_UNAVAILABLE,
    }

    def clean_auth_code(self) -> str:
        raw = self.cleaned_data["auth_code"]
        if self.cleaned_data.get("method") != TopUp.Method.QR or not raw:
            return ""
        code = auth_code(raw)
        if code is None:
            raise ValidationError("not a payment code", code=Code.BAD_AUTH_CODE.value)
        return code


class TopUpRefundForm(EdgeForm):
    top_up = WholeNumberField(required=True, maximum=2**63 - 1)
    amount = AmountField(required=True, validators=[_positive])
    reason = forms.CharField(required=False)
    key = KeyField()  # the same key again refunds nothing more
    refusals = {"top_up": Code.UNKNOWN_TOP_UP, "amount": Code.BAD_AMOUNT, "key": Code.BAD_KEY}


class TopUpCancelForm(EdgeForm):
    """The cashier gives up a WeChat Pay or Alipay top-up the member did not pay."""

    top_up = WholeNumberField(required=True, maximum=2**63 - 1)
    refusals = {"top_up": Code.UNKNOWN_TOP_UP}


class AdjustForm(EdgeForm):
    """A manager's correction: yuan and points, either may go down; blank is nothing."""

    balance = ReadField(signed_amount)
    points = ReadField(signed_points)
    reason = forms.CharField(required=False)
    key = KeyField()  # the same key again adjusts nothing more
    refusals = {"balance": Code.BAD_AMOUNT, "points": Code.BAD_POINTS, "key": Code.BAD_KEY}

    def clean_balance(self) -> Decimal:
        value: Decimal | None = self.cleaned_data["balance"]
        return money(0) if value is None else value

    def clean_points(self) -> int:
        value: int | None = self.cleaned_data["points"]
        return 0 if value is None else value


class PointsForm(EdgeForm):
    """积分抵现: whole points above zero."""

    points = WholeNumberField(required=True, maximum=2**31 - 1)
    refusals = {"points": Code.BAD_POINTS}

    def clean_points(self) -> int:
        value: int = self.cleaned_data["points"]
        if value <= 0:
            raise ValidationError("no points", code="invalid")
        return value
