"""Reads of printing that its pages, its socket and the worker share."""

from django.db.models import Count, Q

from .models import Printer, PrintJob


def failing_printers():
    """Printers in use that failed their last try, each with `waiting`: its jobs not printed."""
    return list(
        Printer.objects.filter(active=True, failing_since__isnull=False).annotate(
            waiting=Count("jobs", filter=Q(jobs__status=PrintJob.Status.QUEUED))
        )
    )


def printers():
    """Every printer with `waiting` (jobs not yet printed), for the print queue page."""
    return list(
        Printer.objects.annotate(
            waiting=Count("jobs", filter=Q(jobs__status=PrintJob.Status.QUEUED))
        ).prefetch_related("stations")
    )


def recent_jobs(limit=100, tab_id=None):
    jobs = PrintJob.objects.select_related("printer")
    if tab_id is not None:
        jobs = jobs.filter(tab_id=tab_id)
    return list(jobs.order_by("-created_at", "-id")[:limit])


def till_printer_exists():
    return Printer.objects.filter(active=True, prints_receipts=True).exists()
