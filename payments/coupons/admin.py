"""The manager's coupons: what each gives, codes issued to members, batches to print or export."""

import csv

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from restaurant.lib.errors import Refused
from restaurant.lib.qr import qr_svg
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


CARDS_PER_PAGE = 10  # 2 × 5 on A4, each about the size of a business card
# Codes on one sheet: drawing a QR code takes about 10 ms, and a batch may hold 5000 codes, so
# a big batch prints in parts of this many (10 A4 pages), each its own page to open and print.
CODES_PER_PART = 100


@admin.register(Batch)
class BatchAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = ["coupon", "quantity", "note", "created_by", "created_at", "sheet_link"]
    actions = ["export"]

    def get_fields(self, request, obj=None):
        return (
            ["coupon", "quantity", "note", "sheet_link"] if obj else ["coupon", "quantity", "note"]
        )

    def get_readonly_fields(self, request, obj=None):
        return ["coupon", "quantity", "note", "sheet_link"] if obj else []

    def get_urls(self):
        # Before the default URLs: their `<path:object_id>/` would swallow "<id>/sheet/".
        own = [
            path(
                "<int:batch_id>/sheet/",
                self.admin_site.admin_view(self.sheet_view),
                name="coupons_batch_sheet",
            )
        ]
        return own + super().get_urls()

    @admin.display(description=_("printable sheet"))
    def sheet_link(self, batch):
        if not batch.pk:
            return "—"
        url = reverse("admin:coupons_batch_sheet", args=[batch.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("Print the codes"))

    def sheet_view(self, request, batch_id):
        """An A4 sheet of the batch's unused codes as cards to cut out: the coupon's name, what
        it gives, its dates, the code as text and as a QR code (what the till's scanner reads).
        A big batch comes in parts of CODES_PER_PART (`?part=2`)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(Batch.objects.select_related("coupon"), pk=batch_id)
        unused = batch.codes.filter(status=CouponCode.Status.ISSUED).order_by("pk")
        count = unused.count()
        parts = max(1, -(-count // CODES_PER_PART))
        try:
            part = int(request.GET.get("part", "1"))
        except ValueError:
            part = 0
        if not 1 <= part <= parts:
            return HttpResponseBadRequest(f"part must be a number from 1 to {parts}")
        first = (part - 1) * CODES_PER_PART
        codes = list(unused.values_list("code", flat=True)[first : first + CODES_PER_PART])
        cards = [{"code": code, "svg": qr_svg(code)} for code in codes]
        coupon = batch.coupon
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Coupon codes"),
            "restaurant_name": settings.RESTAURANT_NAME,
            "batch": batch,
            "coupon": coupon,
            "terms": coupon.terms(),
            "validity": coupon.validity(),
            "pages": [cards[i : i + CARDS_PER_PAGE] for i in range(0, len(cards), CARDS_PER_PAGE)],
            "unused": count,
            "used": batch.codes.count() - count,
            "part": part,
            "parts": [
                {
                    "number": n,
                    "first": (n - 1) * CODES_PER_PART + 1,
                    "last": min(count, n * CODES_PER_PART),
                }
                for n in range(1, parts + 1)
            ]
            if parts > 1
            else [],
            "changelist_url": reverse("admin:coupons_batch_changelist"),
        }
        return TemplateResponse(request, "admin/coupons/batch/sheet.html", context)

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
