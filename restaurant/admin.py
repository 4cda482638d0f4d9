from django.contrib import admin, messages
from django.utils.translation import gettext as _

from restaurant.lib.devices import DeviceToken


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
