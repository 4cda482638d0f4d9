"""Who may call the staff API: a device token with the right role, or a logged-in staff user."""

from typing import Any

from ninja.security import HttpBearer
from ninja.utils import check_csrf

from restaurant.lib.devices import DeviceToken
from restaurant.lib.errors import Code, Refused
from restaurant.lib.roles import has_role


class StaffAuth(HttpBearer):
    """`Authorization: Bearer <device token>`; a session of a user with the role works too.

    A session cookie rides along with any request the browser makes, also one that another
    site starts (a cross-site `text/plain` POST needs no preflight), so a session caller must
    pass Django's CSRF check like a form does (the X-CSRFToken header). A bearer token is sent
    only by code that holds it, so it needs none.
    """

    def __init__(self, *roles: str) -> None:
        super().__init__()
        self.roles = roles

    def __call__(self, request: Any) -> Any:  # an HttpRequest, given `device` here
        if request.headers.get("Authorization"):
            return super().__call__(request)
        user = getattr(request, "user", None)
        if user is None or not has_role(user, *self.roles):
            return None
        if check_csrf(request) is not None:
            raise Refused(Code.CSRF_FAILED)
        request.device = None
        return user

    def authenticate(self, request: Any, token: str) -> Any:
        device = DeviceToken.authenticate(token)
        if device and device.has_role(*self.roles):
            request.device = device
            return device
        return None
