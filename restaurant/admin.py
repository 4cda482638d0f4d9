from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from restaurant.lib.devices import DeviceToken
from restaurant.lib.roles import CASHIER, KITCHEN, MANAGER, ManagerPermissions, has_role


@admin.register(DeviceToken)
class DeviceTokenAdmin(ManagerPermissions, admin.ModelAdmin):
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


admin.site.unregister(User)


@admin.register(User)
class StaffAdmin(UserAdmin):
    """Superusers keep Django's whole user admin. A manager runs the kitchen and cashier staff:
    adds them, sets their names, passwords, role and whether they may log in, and removes them;
    never a superuser or another manager, never staff status or single permissions, so a
    manager cannot make anyone (themselves included) more than a manager."""

    STAFF_ROLES = (KITCHEN, CASHIER)
    manager_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("first_name", "last_name")}),
        (gettext_lazy("Role"), {"fields": ("is_active", "groups", "last_login", "date_joined")}),
    )
    manager_add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "groups")}),
    )

    def _runs_staff(self, request):
        """A manager, not a superuser (who goes through Django's own rules)."""
        return not request.user.is_superuser and has_role(request.user, MANAGER)

    def _manageable(self, obj):
        return obj is None or not (obj.is_superuser or obj.groups.filter(name=MANAGER).exists())

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if self._runs_staff(request):
            users = users.filter(is_superuser=False).exclude(groups__name=MANAGER)
        return users

    def get_fieldsets(self, request, obj=None):
        if not self._runs_staff(request):
            return super().get_fieldsets(request, obj)
        return self.manager_add_fieldsets if obj is None else self.manager_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if self._runs_staff(request):
            return ["last_login", "date_joined"]
        return super().get_readonly_fields(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and self._runs_staff(request):
            kwargs["queryset"] = Group.objects.filter(name__in=self.STAFF_ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return self._runs_staff(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if self._runs_staff(request):
            return self._manageable(obj)
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._runs_staff(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if self._runs_staff(request):
            return self._manageable(obj)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._runs_staff(request):
            return self._manageable(obj)
        return super().has_delete_permission(request, obj)


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LoginLockAdmin(ManagerPermissions, AccessAttemptAdmin):
    """Failed logins (django-axes): a manager unlocks an account by deleting its row."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # django-axes names these columns by their method names, in English whatever the language.
    @admin.display(description=gettext_lazy("status"))
    def status(self, obj):
        return super().status(obj)

    @admin.display(description=gettext_lazy("expires at"))
    def expiration(self, obj):
        return super().expiration(obj)
