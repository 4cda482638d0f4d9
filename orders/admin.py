"""The manager's admin for tables (with their printable QR cards) and a read-only view of tabs.

Tabs, orders and order lines change only through `orders.services`, which keep stock, the
kitchen and the bill in step; here they can be looked at, never added, edited or deleted.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from restaurant.lib.qr import table_qr_svg
from restaurant.lib.roles import ManagerPermissions

from . import realtime, selectors
from .models import Area, Order, OrderLine, Tab, TabEvent, Table

CARDS_PER_PAGE = 6  # 2 × 3 on A4


def _parse_ids(value):
    """`"1,2,3"` → `[1, 2, 3]`; None for anything that is not a list of ids."""
    try:
        ids = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        return None
    return ids if ids and all(i > 0 for i in ids) else None


@admin.register(Table)
class TableAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = ["code", "name", "area", "seats", "active", "position", "diner_link", "qr_link"]
    list_editable = ["active", "position"]
    list_filter = ["active", "area"]
    search_fields = ["code", "name", "area"]
    fields = [
        "code",
        "name",
        "area",
        "seats",
        "minimum_spend",
        "active",
        "position",
        "diner_link",
        "qr_preview",
    ]
    readonly_fields = ["diner_link", "qr_preview"]
    actions = ["print_qr_cards", "rotate_tokens"]
    change_list_template = "admin/orders/table/change_list.html"

    def get_urls(self):
        # Before the default URLs: their `<path:object_id>/` would swallow "qr-sheet/".
        own = [
            path(
                "qr-sheet/",
                self.admin_site.admin_view(self.qr_sheet_view),
                name="orders_table_qr_sheet",
            ),
            path(
                "<int:table_id>/qr.svg",
                self.admin_site.admin_view(self.qr_svg_view),
                name="orders_table_qr_svg",
            ),
        ]
        return own + super().get_urls()

    @admin.display(description=_("diner page"))
    def diner_link(self, table):
        if not table.pk:
            return "—"
        return format_html('<a href="{0}" target="_blank" rel="noopener">{0}</a>', table.diner_url)

    @admin.display(description=_("QR code"))
    def qr_link(self, table):
        url = reverse("admin:orders_table_qr_svg", args=[table.pk])
        return format_html('<a href="{}" target="_blank">SVG</a>', url)

    @admin.display(description=_("QR code"))
    def qr_preview(self, table):
        if not table.pk:
            return "—"
        url = reverse("admin:orders_table_qr_svg", args=[table.pk])
        return format_html('<img src="{}" alt="" width="160" height="160">', url)

    @admin.action(description=_("Print QR cards for the selected tables"), permissions=["view"])
    def print_qr_cards(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:orders_table_qr_sheet')}?ids={ids}")

    @admin.action(
        description=_("Rotate the QR token (codes printed before stop working)"),
        permissions=["change"],
    )
    def rotate_tokens(self, request, queryset):
        count = 0
        for table in queryset:
            table.rotate_token()
            tab = selectors.current_tab(table)
            if tab is not None:  # the phones of the table's visit were on the old code
                realtime.push_visit_ended(tab.pk)
            count += 1
        self.message_user(
            request,
            ngettext(
                "New QR token for %(count)d table: print its card again.",
                "New QR tokens for %(count)d tables: print their cards again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def qr_sheet_view(self, request):
        """An A4 sheet of QR cards: every table in use, or those named by `?ids=1,2,3`."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        tables = list(Table.objects.filter(active=True))
        left_out = 0
        if "ids" in request.GET:
            ids = _parse_ids(request.GET["ids"])
            if ids is None:
                return HttpResponseBadRequest(
                    "ids must be table ids separated by commas: ?ids=1,2,3"
                )
            tables = list(Table.objects.filter(active=True, pk__in=ids))
            left_out = len(set(ids)) - len(tables)
        cards = [{"table": table, "svg": table_qr_svg(table)} for table in tables]
        pages = [cards[i : i + CARDS_PER_PAGE] for i in range(0, len(cards), CARDS_PER_PAGE)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("QR cards"),
            "restaurant_name": settings.RESTAURANT_NAME,
            "pages": pages,
            "card_count": len(cards),
            "left_out": left_out,
            "changelist_url": reverse("admin:orders_table_changelist"),
        }
        return TemplateResponse(request, "admin/orders/table/qr_sheet.html", context)

    def qr_svg_view(self, request, table_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        table = get_object_or_404(Table, pk=table_id)
        response = HttpResponse(table_qr_svg(table), content_type="image/svg+xml")
        response["Content-Disposition"] = (
            content_disposition_header(False, f"table-{table.code}.svg") or "inline"
        )
        return response


class ReadOnlyInline(ManagerPermissions, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ManagerPermissions, admin.ModelAdmin):
    """Viewable by managers; changed only through `orders.services`."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderFigures:
    """Line count and amount of an order (voided lines cost nothing), from prefetched lines."""

    @admin.display(description=_("lines"))
    def line_count(self, order):
        return len(order.lines.all())

    @admin.display(description=_("amount"))
    def total(self, order):
        return selectors.tab_total([order])


class OrderInline(OrderFigures, ReadOnlyInline):
    model = Order
    fields = readonly_fields = (
        "number",
        "created_at",
        "diner",
        "user",
        "line_count",
        "total",
    )
    show_change_link = True  # the order's page lists its lines

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("diner", "user").prefetch_related("lines")
        )


class TabEventInline(ReadOnlyInline):
    model = TabEvent
    fields = readonly_fields = (
        "created_at", "kind", "line", "from_label", "to_label", "user", "approved_by", "diner",
        "reason",
    )  # fmt: skip

    @admin.display(description=_("from status"))
    def from_label(self, event):
        return event.status_label(event.from_status) if event.from_status else "—"

    @admin.display(description=_("to status"))
    def to_label(self, event):
        return event.status_label(event.to_status) if event.to_status else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("line", "user", "approved_by", "diner")


@admin.register(Area)
class AreaAdmin(ManagerPermissions, admin.ModelAdmin):
    """餐位费/茶位费 per guest for the tables whose area has this name."""

    list_display = ["name", "seat_charge", "seat_charge_name"]
    fields = ["name", "seat_charge", "seat_charge_name"]


@admin.register(Tab)
class TabAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "table", "status", "guests", "opened_at", "closed_at", "version"]
    list_filter = ["status", "table__area"]
    list_select_related = ["table"]
    search_fields = ["table__code", "table__name"]
    date_hierarchy = "opened_at"
    fields = readonly_fields = (
        "table",
        "status",
        "guests",
        "opened_at",
        "closed_at",
        "version",
        "diner_count",
        "member_label",
        "member_ref",
        "member_rate",
        "seat_charge",
        "minimum_spend",
    )
    inlines = [OrderInline, TabEventInline]


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = (
        "name",
        "options_text",
        "quantity",
        "unit_price",
        "amount",
        "status",
    )

    @admin.display(description=_("options"))
    def options_text(self, line):
        return "、".join(line.options) or "—"


@admin.register(Order)
class OrderAdmin(OrderFigures, ReadOnlyAdmin):
    list_display = ["__str__", "tab", "number", "created_at", "line_count", "total"]
    list_select_related = ["tab__table"]
    list_filter = ["tab__table__area"]
    search_fields = ["tab__table__code"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "tab",
        "number",
        "created_at",
        "diner",
        "user",
        "key",
    )
    inlines = [OrderLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")
