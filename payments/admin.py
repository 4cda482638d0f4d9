"""Payments, refunds and the ledger in the admin: to look at, never to add, edit or delete.

Money moves only through `payments.services` (the cashier's screen and the API); the ledger is
append-only, and corrections are new entries made by a refund.
"""

from django.contrib import admin

from restaurant.lib.roles import ManagerPermissions

from .models import LedgerEntry, Payment, PaymentEvent, Refund


class ReadOnly(ManagerPermissions):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefundInline(ReadOnly, admin.TabularInline):
    model = Refund
    extra = 0
    fields = readonly_fields = (
        "amount",
        "status",
        "reason",
        "automatic",
        "user",
        "created_at",
        "completed_at",
    )


class EventInline(ReadOnly, admin.TabularInline):
    model = PaymentEvent
    extra = 0
    fields = readonly_fields = (
        "created_at",
        "from_status",
        "to_status",
        "refund",
        "user",
        "reason",
    )


@admin.register(Payment)
class PaymentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["id", "tab", "method", "status", "amount", "refunded", "created_at", "user"]
    list_filter = ["method", "status", "created_at"]
    search_fields = ["reference", "gateway_txn", "terminal_ref"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    inlines = [RefundInline, EventInline]


@admin.register(LedgerEntry)
class LedgerAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "amount", "tab", "payment", "refund", "user"]
    list_filter = ["account", "kind", "created_at"]
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]
    actions = None
