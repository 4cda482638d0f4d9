from django.contrib import admin, messages
from django.utils.translation import gettext as _

from .models import DeviceToken
from .roles import MANAGER, has_role


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


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "prefix", "active", "created_at", "last_used_at"]
    list_filter = ["role", "active"]
    fields = ["name", "role", "active", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        device, raw = DeviceToken.issue(name=obj.name, role=obj.role)
        obj.pk, obj.digest, obj.prefix = device.pk, device.digest, device.prefix
        obj._state.adding = False
        messages.warning(
            request,
            _("The token of %(device)s, shown only now: %(token)s")
            % {"device": device.name, "token": raw},
        )
