"""One error type for every refusal, on pages and in the API.

A refusal carries a code from `Code`; the code gives its HTTP status and its message, so
`tab_closed` means one thing with one status everywhere. Pages show `message`; the API answers
`{"error": code, "message": message, **extra}` (restaurant/api.py). Nothing was changed when a
service raises one: it is raised before a write, or inside the transaction it rolls back.
"""

from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Code(StrEnum):
    """Stable codes for API clients; each with its status and its message for people.

    A message may name values (`%(dish)s`): the refusal gives them.
    """

    status: int
    template: Promise

    def __new__(cls, code: str, status: int, template: Promise) -> "Code":
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.template = template
        return member

    # The request itself
    INVALID = "invalid", 400, _("The request is not valid: %(problems)s.")
    UNAUTHORIZED = "unauthorized", 401, _("Sign in, or send a device token.")
    FORBIDDEN = "forbidden", 403, _("This needs another staff role.")
    CSRF_FAILED = (
        "csrf_failed",
        403,
        _("CSRF check failed: send the X-CSRFToken header, or a device token."),
    )
    NOT_FOUND = "not_found", 404, _("Not found.")
    TOO_BIG = "too_big", 413, _("The request body is too large.")
    DATABASE_UNAVAILABLE = (
        "database_unavailable",
        503,
        _(
            "The system is briefly unavailable (its database is restarting). If what you just "
            "did does not show, please try again in a moment."
        ),
    )
    NUL_IN_TEXT = "nul_in_text", 400, _("Text must not contain a NUL character.")
    BAD_KEY = "bad_key", 400, _("key must be a string of 1 to 64 characters.")
    REASON_REQUIRED = "reason_required", 400, _("Give a reason (at most 200 characters).")

    # The menu
    UNKNOWN_DISH = "unknown_dish", 400, _("Dish %(dish)s is not on the menu.")
    BAD_STOCK = (
        "bad_stock",
        400,
        _("Portions left must be a whole number from 0 to 99999, or blank."),
    )
    NOTHING_TO_CHANGE = (
        "nothing_to_change",
        400,
        _("Say sold out or back on, or how many are left."),
    )

    # Diners, the cart and orders
    TAB_CLOSED = "tab_closed", 409, _("This bill is closed. Please scan the table's code again.")
    # A visit (tab) is named by every request that acts on it; see README, "Visits".
    VISIT_REQUIRED = (
        "visit_required",
        409,
        _("This table's bill has already started: open the table's page again to join it."),
    )
    TABLE_NOT_OPEN = (
        "table_not_open",
        409,
        _("This table is not open yet: please ask a member of staff to open it."),
    )
    KEY_RESERVED = "key_reserved", 400, _("Keys starting with \"cart-\" are the diners' pages'.")
    # Limits per tab and per time (README, "Limits")
    CART_FULL = "cart_full", 409, _("The cart holds at most %(n)s dishes: order these first.")
    TOO_MANY_PORTIONS = "too_many_portions", 400, _("An order has at most %(n)s portions.")
    ORDERING_TOO_FAST = (
        "ordering_too_fast",
        429,
        _("At most %(n)s orders a minute per table: please wait a moment."),
    )
    TAB_FULL = (
        "tab_full",
        409,
        _("This bill has %(n)s dishes, the most one bill takes: please ask a member of staff."),
    )
    TOO_MANY_PAYMENTS = (
        "too_many_payments",
        409,
        _("%(n)s payments are already under way on this bill: finish or cancel one first."),
    )
    PAYMENTS_OVER_DUE = (
        "payments_over_due",
        409,
        _(
            "%(under_way)s is already being paid on this bill; at most %(startable)s more can "
            "be paid now. Finish or cancel a payment under way first."
        ),
    )
    BAD_NICKNAME = "bad_nickname", 400, _("A nickname has at most 12 characters.")
    BAD_QUANTITY = "bad_quantity", 400, _("The quantity must be a whole number from 1 to %(max)s.")
    BAD_GUESTS = (
        "bad_guests",
        400,
        _("The number of guests must be a whole number from 1 to %(max)s."),
    )
    GUESTS_REQUIRED = "guests_required", 400, _("How many guests? Please say with the first order.")
    EMPTY = "empty", 400, _("Nothing to order.")
    TOO_MANY_LINES = "too_many_lines", 400, _("An order has at most %(n)s lines.")
    BAD_NOTE = "bad_note", 400, _("A note has at most %(n)s characters.")
    BAD_OPTIONS = "bad_options", 400, _("Option %(option)s is not available for %(dish)s.")
    MISSING_OPTION = "missing_option", 400, _("Please choose %(group)s for %(dish)s.")
    TOO_MANY_OPTIONS = "too_many_options", 400, _("Choose at most %(n)s of %(group)s.")
    NOT_IN_CART = "not_in_cart", 400, _("That dish is no longer in the cart.")
    CART_CHANGED = (
        "cart_changed",
        409,
        _("The cart changed a moment ago; please check it and order again."),
    )
    OUT_OF_STOCK = (
        "out_of_stock",
        409,
        _("Not enough left of: %(names)s. Nothing was ordered; please change the order."),
    )

    # Printing
    NO_TILL_PRINTER = (
        "no_till_printer",
        409,
        _("No till printer is set up: the manager adds one in the admin (Printers)."),
    )
    UNKNOWN_PRINTER = "unknown_printer", 404, _("No such printer.")
    UNKNOWN_PRINT_JOB = "unknown_print_job", 404, _("No such print job.")
    BAD_PRINTER_MOVE = (
        "bad_printer_move",
        400,
        _("Move the jobs to another printer that is in use."),
    )
    PRINTER_BUSY = (
        "printer_busy",
        409,
        _("The worker is trying this printer right now: move its jobs again in a moment."),
    )

    # The kitchen
    UNKNOWN_LINE = "unknown_line", 404, _("No such dish line.")
    BAD_STATUS = "bad_status", 400, _("Unknown status %(status)s.")
    USE_VOID = "use_void", 400, _("Taking a dish off needs a reason: void it instead.")
    LINE_MOVED = "line_moved", 409, _("Someone else changed this dish a moment ago.")
    ILLEGAL_TRANSITION = "illegal_transition", 409, _("Not possible now: %(thing)s is %(status)s.")
    NOT_WAITING = "not_waiting", 409, _("Only a dish that is still being made can be hurried.")
    URGED_RECENTLY = (
        "urged_recently",
        400,
        _("The kitchen has just been asked; you can hurry it again in a few minutes."),
    )
    NOTHING_TO_RECALL = "nothing_to_recall", 400, _("Nothing to recall.")

    # The bill
    UNKNOWN_TAB = "unknown_tab", 404, _("No such tab.")
    LINE_VOIDED = "line_voided", 409, _("This dish is already taken off the bill.")
    BAD_DISCOUNT = "bad_discount", 400, _("A discount must be between ¥0 and %(max)s.")
    DISCOUNT_OVER_LIMIT = (
        "discount_over_limit",
        403,
        _(
            "The discounts on this bill would come to %(discounts)s; a cashier may give at most "
            "%(limit)s in all. Lower them, or a manager approves."
        ),
    )
    VOID_NEEDS_MANAGER = (
        "void_needs_manager",
        403,
        _("%(dish)s was already served: a manager approves taking it off."),
    )
    BAD_MEMBER = (
        "bad_member",
        400,
        _(
            "A member on a bill needs a reference of 1 to 64 characters, a name of at most 60 "
            "and a discount rate above 0 and at most 1 (0.90 = 九折), or none."
        ),
    )
    BAD_ADJUSTMENT = "bad_adjustment", 400, _("This money off is not valid: %(problem)s.")
    NOT_APPLICABLE = "not_applicable", 409, _("%(name)s does not apply to this bill: %(why)s.")
    NOT_COMBINABLE = (
        "not_combinable",
        409,
        _("%(name)s cannot be used together with %(other)s on one bill."),
    )
    UNKNOWN_COUPON = "unknown_coupon", 404, _("No such coupon: check the code and try again.")
    COUPON_USED = "coupon_used", 409, _("This coupon has already been used.")
    COUPON_NOT_VALID = "coupon_not_valid", 409, _("This coupon cannot be used now: %(why)s.")
    BALANCE_DUE = "balance_due", 409, _("%(due)s is still owed; take it first.")
    NOTHING_DUE = "nothing_due", 409, _("Nothing is owed on this bill.")

    # Payments and refunds
    BAD_AMOUNT = (
        "bad_amount",
        400,
        _('The amount must be in yuan like "12.50" (more than zero for a payment or refund).'),
    )
    BAD_VERSION = "bad_version", 400, _("version must be the settlement's version number.")
    BAD_METHOD = "bad_method", 400, _("This way of paying is not taken here.")
    METHOD_UNAVAILABLE = "method_unavailable", 400, _("This way of paying is not set up here.")
    BAD_AUTH_CODE = (
        "bad_auth_code",
        400,
        _("This is not a WeChat Pay or Alipay payment code: scan the code on the payer's phone."),
    )
    GATEWAY_UNAVAILABLE = (
        "gateway_unavailable",
        503,
        _("The payment service did not answer. Nothing was changed: please try again."),
    )
    REFERENCE_REQUIRED = (
        "reference_required",
        400,
        _("Enter the card terminal's reference of this payment."),
    )
    BAD_PEOPLE = "bad_people", 400, _("Split between 2 and 50 people.")
    NO_DISHES = "no_dishes", 400, _("This phone has not ordered anything.")
    BAD_CHOICE = "bad_choice", 400, _("Choose how to pay.")
    KEY_REUSED = "key_reused", 409, _("This key was used for another payment.")
    STALE_VERSION = (
        "stale_version",
        409,
        _("The bill changed a moment ago. Please check it and pay again."),
    )
    OVER_BALANCE = "over_balance", 400, _("That is more than is owed (%(due)s).")
    UNKNOWN_PAYMENT = "unknown_payment", 404, _("No such payment.")
    NOT_YOUR_PAYMENT = (
        "not_your_payment",
        403,
        _("Only the phone that started this payment can cancel it."),
    )
    ALREADY_PAID = (
        "already_paid",
        409,
        _("This payment went through a moment ago; it will show as paid."),
    )
    PAYMENT_PENDING = (
        "payment_pending",
        409,
        _("A payment is still under way; wait for it or cancel it."),
    )
    NOT_PAID = "not_paid", 409, _("Only a paid payment can be refunded.")
    OVER_REFUND = "over_refund", 400, _("At most %(left)s of this payment can be given back.")
    REFUND_PENDING = "refund_pending", 409, _("A refund is still under way.")
    REFUND_NEEDS_MANAGER = (
        "refund_needs_manager",
        403,
        _("Refunds on this bill would come to %(refunds)s; above %(limit)s a manager approves."),
    )

    # Members (payments/members, README "Members")
    UNKNOWN_MEMBER = "unknown_member", 404, _("No such member.")
    BAD_MOBILE = "bad_mobile", 400, _("A mobile number is 11 digits starting with 1.")
    MOBILE_TAKEN = "mobile_taken", 409, _("This mobile number already belongs to a member.")
    BAD_MEMBER_NAME = "bad_member_name", 400, _("A name has at most 40 characters.")
    BAD_BIRTHDAY = "bad_birthday", 400, _("A birthday is a date like 1990-05-17.")
    BAD_PIN = "bad_pin", 400, _("A PIN is 6 digits.")
    NO_PIN = "no_pin", 409, _("This member has not set a PIN yet: set one at the till first.")
    WRONG_PIN = (
        "wrong_pin",
        403,
        _("Wrong PIN. %(left)s more wrong tries lock it for %(minutes)s minutes."),
    )
    PIN_LOCKED = (
        "pin_locked",
        429,
        _("Too many wrong PINs: the PIN is locked for %(minutes)s more minutes."),
    )
    MEMBER_AUTH_REQUIRED = (
        "member_auth_required",
        400,
        _("Scan the member's code, or enter their mobile or member number and PIN."),
    )
    BAD_MEMBER_CODE = (
        "bad_member_code",
        400,
        _("This member code is not valid or has run out: open the member page for a new one."),
    )
    MEMBER_CODE_USED = (
        "member_code_used",
        409,
        _("This member code was already used: open the member page for a new one."),
    )
    MEMBER_FROZEN = "member_frozen", 409, _("This member card is frozen: nothing can be spent.")
    MEMBER_ERASED = "member_erased", 409, _("This member's data was deleted.")
    NOT_ENOUGH_BALANCE = (
        "not_enough_balance",
        409,
        _("The member's balance is %(balance)s: not enough for %(amount)s."),
    )
    NOT_ENOUGH_POINTS = (
        "not_enough_points",
        409,
        _("The member has %(points)s points: not enough."),
    )
    BAD_POINTS = "bad_points", 400, _("Points must be a whole number.")
    TOO_MANY_POINTS = (
        "too_many_points",
        409,
        _("Points can take at most %(most)s off this bill."),
    )
    NOTHING_TO_ADJUST = "nothing_to_adjust", 400, _("Say what to change: balance or points.")
    CARD_FULL = (
        "card_full",
        409,
        _("A member card holds less than ¥10,000,000,000 and at most 2,147,483,647 points."),
    )
    OVER_TOP_UP_REFUND = (
        "over_top_up_refund",
        400,
        _("At most %(left)s of this top-up can be given back (its principal still unspent)."),
    )
    UNKNOWN_TOP_UP = "unknown_top_up", 404, _("No such top-up.")
    TOP_UP_NOT_PAID = (
        "top_up_not_paid",
        409,
        _("This top-up was not paid: nothing was credited, nothing can be given back."),
    )
    MANAGER_ONLY = "manager_only", 403, _("Only a manager may do this.")

    # A manager's approval (restaurant/lib/approvals.py)
    APPROVAL_WRONG = "approval_wrong", 403, _("The manager's login or password is wrong.")
    APPROVER_NOT_MANAGER = "approver_not_manager", 403, _("%(login)s is not a manager.")
    SELF_APPROVAL = (
        "self_approval",
        403,
        _("Nobody approves their own action: another person, a manager, must."),
    )

    # The books: shifts and the day close (payments/books)
    NO_SHIFT = "no_shift", 409, _("Open a shift at a till first.")
    SHIFT_OPEN = "shift_open", 409, _("You already have a shift open at till %(till)s.")
    TILL_BUSY = (
        "till_busy",
        409,
        _("%(cashier)s has a shift open at till %(till)s: they hand over first."),
    )
    SHIFT_HANDED_OVER = "shift_handed_over", 409, _("This shift has already been handed over.")
    NOT_YOUR_SHIFT = "not_your_shift", 403, _("Only its cashier or a manager hands a shift over.")
    BAD_TILL = "bad_till", 400, _("Name the till (1 to 30 characters).")
    PERSON_REQUIRED = (
        "person_required",
        403,
        _(
            "A shift or a day close belongs to a person: sign in as the cashier or manager. "
            "A device token cannot do this."
        ),
    )
    BAD_COUNT = (
        "bad_count",
        400,
        _("Count the cash as a total in yuan, or as a whole number of each note and coin."),
    )
    BAD_LEFT = (
        "bad_left",
        400,
        _("What stays in the drawer must be between ¥0 and the cash counted (%(counted)s)."),
    )
    DIFFERENCE_NEEDS_REASON = (
        "difference_needs_reason",
        400,
        _("The drawer is %(difference)s against what is expected: give a reason."),
    )
    DAY_CLOSED = "day_closed", 409, _("Business day %(day)s is already closed.")
    DAY_NOT_OVER = "day_not_over", 409, _("Business day %(day)s has not begun yet.")
    SHIFTS_STILL_OPEN = (
        "shifts_still_open",
        409,
        _("Shifts still open at %(tills)s: hand them over before closing the day."),
    )
    DAY_HAS_OPEN_BILLS = (
        "day_has_open_bills",
        409,
        _(
            "%(tables)s open table(s) and %(payments)s payment(s) under way: settle them, or "
            "carry them over to the next day with a reason."
        ),
    )

    # The books: reports and reconciliation (payments/reports)
    BAD_PERIOD = (
        "bad_period",
        400,
        _(
            "Choose the period as dates like 2026-12-01, the first on or before the last, "
            "at most %(days)s days."
        ),
    )
    UNKNOWN_REPORT = "unknown_report", 404, _("No such report.")
    BAD_BILL_FILE = (
        "bad_bill_file",
        400,
        _("This file is not %(gateway)s's trade bill of %(day)s: %(problem)s"),
    )


# Each code by its value: an edge's parse error named so is answered as that refusal.
CODES: dict[str, Code] = {code.value: code for code in Code}


class Refused(Exception):
    """A refused request: `Refused(Code.OVER_REFUND, left="¥8.00", extra={"refundable": "8.00"})`.

    `params` fill the code's message; `extra` are more fields of the API's answer.
    """

    def __init__(self, code: Code, /, *, extra: dict[str, Any] | None = None, **params: Any):
        self.code = code
        self.params = params
        self.extra = extra or {}
        super().__init__(code.value)

    @property
    def status(self) -> int:
        return self.code.status

    @property
    def message(self) -> str:
        """In the language active when it is read (the request's), with its values filled in."""
        template = str(self.code.template)
        return template % self.params if self.params else template

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code.value, "message": self.message, **self.extra}

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"
