"""Staff roles are groups: kitchen, cashier, manager. A superuser may do everything."""

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.admin.options import BaseModelAdmin
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

KITCHEN = "kitchen"
CASHIER = "cashier"
MANAGER = "manager"
ROLES = (KITCHEN, CASHIER, MANAGER)


def has_role(user: AbstractBaseUser | AnonymousUser | None, *roles: str) -> bool:
    """True when the user is staff in one of these roles; a manager may do what any role does."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    names: set[str] | None = getattr(user, "_role_names", None)
    if names is None:
        names = set(getattr(user, "groups").values_list("name", flat=True))  # noqa: B009
        setattr(user, "_role_names", names)  # noqa: B010 (remembered for this request)
    return MANAGER in names or bool(names.intersection(roles))


def role_required(*roles: str) -> Callable[[View], View]:
    """View decorator: anonymous visitors go to the login page, others without the role get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]  # wraps() keeps the view's signature

    return decorator


if TYPE_CHECKING:  # what the mixin's super() reaches: a ModelAdmin's or an inline's methods
    _AdminBase = BaseModelAdmin
else:
    _AdminBase = object


class ManagerPermissions(_AdminBase):
    """Staff in the manager role run these models without per-model Django permissions.

    Everyone else (a staff user outside the role) falls back to Django's model permissions. The
    admin site itself still lets in only active staff users.
    """

    def _is_manager(self, request: HttpRequest) -> bool:
        return has_role(request.user, MANAGER)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_manager(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_manager(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # ModelAdmin passes (request); an inline passes (request, obj).
        return self._is_manager(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_manager(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_manager(request) or super().has_delete_permission(request, obj)
