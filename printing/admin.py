"""Printers in the admin (manager): set them up, send a test page; print jobs to look at and
reprint. Jobs are never edited by hand: the worker and the staff's print queue page move them."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from restaurant.lib.errors import Refused
from restaurant.lib.roles import ManagerPermissions

from . import services
from .models import Printer, PrintJob


@admin.register(Printer)
class PrinterAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = [
        "name",
        "address",
        "paper",
        "station_names",
        "prints_pass",
        "prints_receipts",
        "active",
        "waiting",
        "failing_since",
        "last_error",
    ]
    list_filter = ["active", "prints_pass", "prints_receipts", "stations"]
    filter_horizontal = ["stations"]
    readonly_fields = ["failing_since", "last_error"]
    fieldsets = [
        (None, {"fields": ["name", "host", "port", "active"]}),
        (_("Paper and character set"), {"fields": ["paper", "encoding", "cuts", "beeps"]}),
        (_("What it prints"), {"fields": ["stations", "prints_pass", "prints_receipts"]}),
        (_("State"), {"fields": ["failing_since", "last_error"]}),
    ]
    actions = ["print_test_page"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(queued=Count("jobs", filter=Q(jobs__status=PrintJob.Status.QUEUED)))
            .prefetch_related("stations")
        )

    @admin.display(description=_("address"))
    def address(self, printer):
        return printer.address

    @admin.display(description=_("kitchen stations"))
    def station_names(self, printer):
        return "、".join(station.name for station in printer.stations.all())

    @admin.display(description=_("waiting"), ordering="queued")
    def waiting(self, printer):
        return printer.queued

    @admin.action(description=_("Print a test page"))
    def print_test_page(self, request, queryset):
        for printer in queryset:
            services.test_page_print(printer_id=printer.pk)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "A test page is queued for %(n)d printer.",
                "A test page is queued for %(n)d printers.",
                count,
            )
            % {"n": count},
        )


@admin.register(PrintJob)
class PrintJobAdmin(ManagerPermissions, admin.ModelAdmin):
    list_display = [
        "created_at",
        "printer",
        "sequence",
        "kind",
        "title",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "printer", "created_at"]
    search_fields = ["title"]
    readonly_fields = [f.name for f in PrintJob._meta.fields]
    actions = ["reprint"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Print again (重印)"))
    def reprint(self, request, queryset):
        for job in queryset.order_by("created_at", "id"):
            try:
                services.job_reprint(job_id=job.pk)
            except Refused as error:
                self.message_user(request, error.message, messages.ERROR)
                return
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(n)d job is queued again.", "%(n)d jobs are queued again.", count)
            % {"n": count},
        )
