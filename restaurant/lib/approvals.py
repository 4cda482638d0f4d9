"""A manager's approval, typed on the screen of the person asking: their login and password.

A cashier's action above what a cashier may do alone (the orders and payments services say
what that is) is refused with a code of `NEEDS_MANAGER`; the cashier screen then shows the
approval fields, the API client sends `approval: {"login", "password"}` with the same request.
The service asks for the approving manager only when it needs one, so a password is checked
only then, and records who approved beside who acted.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import Schema

from restaurant.lib.errors import Code, Refused
from restaurant.lib.roles import MANAGER, has_role

# Refusals that a manager's approval answers; the screens show the approval fields for these.
NEEDS_MANAGER = frozenset(
    {
        Code.DISCOUNT_OVER_LIMIT,
        Code.VOID_NEEDS_MANAGER,
        Code.REFUND_NEEDS_MANAGER,
        Code.APPROVAL_WRONG,
        Code.APPROVER_NOT_MANAGER,
        Code.SELF_APPROVAL,
    }
)


@dataclass
class Approval:
    """What was typed in the approval fields (maybe nothing), and the request it came with (the
    login throttle counts a wrong password against it)."""

    login: str = ""
    password: str = ""
    request: Any = None
    # The manager once checked: one action may need approval twice (a void that also leaves
    # the discounts above the limit), and a password is checked once.
    approver: Any = field(default=None, init=False, repr=False)

    @classmethod
    def from_fields(cls, request: HttpRequest, login: object, password: object) -> "Approval":
        login = login.strip() if isinstance(login, str) else ""
        password = password if isinstance(password, str) else ""
        return cls(login[:150], password[:200], request)

    @classmethod
    def from_post(cls, request: HttpRequest) -> "Approval":
        """The approval fields of a staff page's form (payments/approval.html)."""
        return cls.from_fields(
            request, request.POST.get("manager_login"), request.POST.get("manager_password")
        )

    @classmethod
    def from_api(cls, request: HttpRequest, approval: "ApprovalIn | None") -> "Approval":
        if approval is None:
            return cls(request=request)
        return cls.from_fields(request, approval.login, approval.password)

    def __bool__(self) -> bool:
        return bool(self.login or self.password)

    def manager(self, actor: Any, needed: Refused) -> Any:
        """The manager who approves `actor`'s action, their password checked; `needed` is raised
        when nobody approved. Nobody approves their own action."""
        if not self:
            raise needed
        if self.approver is not None:
            return self.approver
        if actor is not None and actor.is_authenticated and self.login == actor.get_username():
            raise Refused(Code.SELF_APPROVAL)
        user = authenticate(self.request, username=self.login, password=self.password)
        if user is None:
            raise Refused(Code.APPROVAL_WRONG)
        if actor is not None and user.pk == actor.pk:
            raise Refused(Code.SELF_APPROVAL)
        if not has_role(user, MANAGER):
            raise Refused(Code.APPROVER_NOT_MANAGER, login=self.login)
        self.approver = user
        return user


# Fields of a refused form that are not sent again with the approval.
APPROVAL_FIELDS = ("csrfmiddlewaretoken", "manager_login", "manager_password")


def approval_form(request: HttpRequest, error: Refused, *, what: str, cancel: str) -> HttpResponse:
    """The answer to an htmx action refused for want of a manager (a code of NEEDS_MANAGER):
    the approval fields (templates/approval.html) in the page's #approval region, saying why,
    with the action's own fields to send again beside the manager's login and password.
    `what` names the action; `cancel` is where "Cancel" goes (a path on this site)."""
    approval = {
        "action": request.path,
        "message": error.message,
        "what": what,
        "amount": request.POST.get("amount", "")[:20],
        "reason": request.POST.get("reason", "")[:200],
        "fields": [
            (name, value)
            for name, value in request.POST.items()
            if name not in APPROVAL_FIELDS and len(value) <= 200
        ],
        "cancel": cancel,
    }
    response = render(request, "approval.html#form", {"approval": approval})
    response.status_code = error.status
    response["HX-Retarget"] = "#approval"
    response["HX-Reswap"] = "innerHTML"
    return response


class ApprovalIn(Schema):
    """The API's `approval` field: the approving manager's login and password."""

    login: str
    password: str
