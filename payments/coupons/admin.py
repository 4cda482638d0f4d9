"""The manager's coupons: what each gives, codes issued to members, batches to print or export."""

import csv

from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from restaurant.lib.errors import Refused
from restaurant.lib.roles import ManagerPermissions

from . import services
from .models import Batch, Coupon, CouponCode, CouponEvent


@admin.register(Coupon)
class CouponAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "off",
        "rate",
        "cap",
        "minimum",
        "combinable",
        "valid_until",
        "active",
    ]
    list_filter = ["type", "active", "combinable"]
    search_fields = ["name"]
    filter_horizontal = ["dishes", "categories"]
    fieldsets = [
        (
            None,
            {"fields": ["name", "type", "off", "rate", "cap", "minimum", "combinable", "active"]},
        ),
        (_("What it covers"), {"fields": ["dishes", "categories"]}),
        (
            _("When"),
            {"fields": ["valid_from", "valid_until", "weekdays", "hours_from", "hours_until"]},
        ),
    ]


def export_codes(codes, name):
    answer = HttpResponse(content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    answer.write("\ufeff")  # Excel reads UTF-8 with its mark
    writer = csv.writer(answer)
    writer.writerow(["code", "coupon", "status", "valid_until", "member"])
    for code in codes.select_related("coupon", "member"):
        writer.writerow(
            [
                code.code,
                code.coupon.name,
                code.get_status_display(),
                code.coupon.valid_until or "",
                code.member.number if code.member else "",
            ]
        )
    return answer


@admin.register(Batch)
class BatchAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = ["coupon", "quantity", "note", "created_by", "created_at"]
    fields = ["coupon", "quantity", "note"]
    actions = ["export"]

    def get_readonly_fields(self, request, obj=None):
        return ["coupon", "quantity", "note"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            made = services.batch_issue(
                coupon=obj.coupon, quantity=obj.quantity, note=obj.note, user=request.user
            )
        except Refused as refused:
            messages.error(request, refused.message)
            return
        obj.pk = made.pk

    @admin.action(description=_("Export the codes (CSV)"))
    def export(self, request, queryset):
        codes = CouponCode.objects.filter(batch__in=queryset).order_by("batch", "code")
        return export_codes(codes, "coupon-codes.csv")


class EventInline(admin.TabularInline):
    model = CouponEvent
    extra = 0
    fields = readonly_fields = ("created_at", "kind", "tab_id", "user", "reason")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CouponCode)
class CouponCodeAdmin(ManagerPermissions, admin.ModelAdmin):
    """A code issued to a member is made here (choose the coupon and the member)."""

    list_display = ["code", "coupon", "member", "status", "tab", "redeemed_at", "created_at"]
    list_filter = ["status", "coupon"]
    search_fields = ["code", "member__number", "member__mobile"]
    list_select_related = ["coupon", "member"]
    raw_id_fields = ["member"]
    inlines = [EventInline]
    actions = ["export"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["coupon", "member"]
        return ["code", "coupon", "member", "batch", "status", "tab", "redeemed_at", "redeemed_by"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        made = services.coupon_issue(coupon=obj.coupon, member_id=obj.member_id, user=request.user)
        obj.pk, obj.code = made.pk, made.code

    @admin.action(description=_("Export the codes (CSV)"))
    def export(self, request, queryset):
        return export_codes(queryset.order_by("code"), "coupon-codes.csv")
