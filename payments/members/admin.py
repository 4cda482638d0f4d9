"""Levels and top-up bonus rules are the manager's to set here. Members and their top-ups are
looked at here; their money and points move only through `payments.members.services` (the
till's pages)."""

from django.contrib import admin

from restaurant.lib.roles import ManagerPermissions

from ..admin import ReadOnly
from .models import BonusRule, Level, Member, Move, TopUp, TopUpEvent, TopUpRefund


@admin.register(Level)
class LevelAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = ("name", "name_en", "discount_rate", "points_rate", "is_default", "position")
    list_editable = ("position",)


@admin.register(BonusRule)
class BonusRuleAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = ("threshold", "bonus", "active")


class MoveInline(admin.TabularInline):
    model = Move
    extra = 0
    fields = readonly_fields = (
        "created_at",
        "kind",
        "principal",
        "bonus",
        "points",
        "principal_after",
        "bonus_after",
        "points_after",
        "user",
        "reason",
    )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = ("number", "mobile", "name", "level", "status", "principal", "bonus", "points")
    list_filter = ("status", "level")
    search_fields = ("number", "mobile", "name")
    readonly_fields = (
        "number",
        "mobile",
        "status",
        "principal",
        "bonus",
        "points",
        "pin_failures",
        "pin_locked_until",
        "created_at",
        "created_by",
        "erased_at",
    )
    fields = ("number", "mobile", "name", "birthday", "level", *readonly_fields[2:])
    inlines = [MoveInline]

    def has_add_permission(self, request):
        return False  # made at the till or by the diner (services.member_create)

    def has_delete_permission(self, request, obj=None):
        return False  # personal data is erased by the service; the books keep the member


class TopUpRefundInline(ReadOnly, admin.TabularInline):
    model = TopUpRefund
    extra = 0
    fields = readonly_fields = (
        "amount",
        "bonus",
        "status",
        "reason",
        "automatic",
        "gateway_refund",
        "failure",
        "user",
        "created_at",
    )


class TopUpEventInline(ReadOnly, admin.TabularInline):
    model = TopUpEvent
    extra = 0
    fields = readonly_fields = (
        "created_at",
        "from_status",
        "to_status",
        "refund",
        "user",
        "reason",
    )


@admin.register(TopUp)
class TopUpAdmin(ReadOnly, admin.ModelAdmin):
    """Every top-up with its gateway's numbers, refunds and moves: what the manager looks up
    when a guest or a gateway's bill asks about one."""

    list_display = ["id", "member", "method", "provider", "status", "amount", "bonus", "refunded"]
    list_display += ["created_at", "user"]
    list_filter = ["method", "provider", "status", "created_at"]
    search_fields = ["reference", "gateway_txn", "terminal_ref", "member__number"]
    readonly_fields = [f.name for f in TopUp._meta.fields]
    inlines = [TopUpRefundInline, TopUpEventInline]
