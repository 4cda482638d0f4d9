"""Staff roles are groups: kitchen, cashier, manager. A superuser may do everything."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

KITCHEN = "kitchen"
CASHIER = "cashier"
MANAGER = "manager"
ROLES = (KITCHEN, CASHIER, MANAGER)


def has_role(user, *roles):
    """True when the user is staff in one of these roles; a manager may do what any role does."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    names = getattr(user, "_role_names", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True))
        user._role_names = names
    return MANAGER in names or bool(names.intersection(roles))


def role_required(*roles):
    """View decorator: anonymous visitors go to the login page, others without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class ManagerPermissions:
    """Staff in the manager role run these models without per-model Django permissions.

    Everyone else (a staff user outside the role) falls back to Django's model permissions. The
    admin site itself still lets in only active staff users.
    """

    def _is_manager(self, request):
        return has_role(request.user, MANAGER)

    def has_module_permission(self, request):
        return self._is_manager(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._is_manager(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        # ModelAdmin passes (request); an inline passes (request, obj).
        return self._is_manager(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._is_manager(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_manager(request) or super().has_delete_permission(request, obj)
