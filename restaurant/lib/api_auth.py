"""Who may call the staff API: a device token with the right role, or a logged-in staff user."""

from ninja.security import HttpBearer

from restaurant.lib.devices import DeviceToken
from restaurant.lib.roles import has_role


class StaffAuth(HttpBearer):
    """`Authorization: Bearer <device token>`; a session of a user with the role works too."""

    def __init__(self, *roles):
        super().__init__()
        self.roles = roles

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and has_role(user, *self.roles):
            request.device = None
            return user
        return super().__call__(request)

    def authenticate(self, request, token):
        device = DeviceToken.authenticate(token)
        if device and device.has_role(*self.roles):
            request.device = device
            return device
        return None
