"""Staff pages of printing: the print queue (reprint, move a dead printer's jobs) and the
cashier's bill and receipt buttons. Thin: check the role, call a service, answer."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from restaurant.lib import parse
from restaurant.lib.errors import Refused
from restaurant.lib.htmx import refusal
from restaurant.lib.roles import CASHIER, KITCHEN, role_required

from . import selectors, services
from .models import PrintJob


def _done(request, message, back):
    """An htmx action answers with its message in the page's #flash region; a plain form goes
    back to the page it came from."""
    if not request.htmx:
        return redirect(back)
    return render(request, "flash.html", {"message": message})


def _action(request, back, act):
    try:
        message = act()
    except Refused as error:
        if not request.htmx:
            return render(
                request,
                "printing/jobs.html",
                _queue_context(error=error.message),
                status=error.status,
            )
        return refusal(request, error.message, error.status)
    return _done(request, message, back)


def _queue_context(**extra):
    return {"printers": selectors.printers(), "jobs": selectors.recent_jobs(), **extra}


@require_GET
@role_required(KITCHEN, CASHIER)
def print_queue(request):
    return render(request, "printing/jobs.html", _queue_context())


@require_POST
@role_required(KITCHEN, CASHIER)
def job_reprint(request, job):
    def act():
        copy = services.job_reprint(job_id=job)
        return _("Queued again on %(printer)s.") % {"printer": copy.printer.name}

    return _action(request, reverse("printing:queue"), act)


@require_POST
@role_required(KITCHEN, CASHIER)
def jobs_move(request, printer):
    def act():
        target = parse.whole_number(request.POST.get("to", ""))
        moved = services.jobs_move(from_printer_id=printer, to_printer_id=target or 0)
        return ngettext("%(n)d job moved.", "%(n)d jobs moved.", moved) % {"n": moved}

    return _action(request, reverse("printing:queue"), act)


def _bill_print(request, tab, kind):
    def act():
        job = services.bill_print(tab_id=tab, kind=kind)
        return _("Sent to %(printer)s.") % {"printer": job.printer.name}

    return _action(request, reverse("payments:cashier") + f"?tab={tab}", act)


@require_POST
@role_required(CASHIER)
def prebill_print(request, tab):
    return _bill_print(request, tab, PrintJob.Kind.PREBILL)


@require_POST
@role_required(CASHIER)
def receipt_print(request, tab):
    return _bill_print(request, tab, PrintJob.Kind.RECEIPT)


@require_POST
@role_required(CASHIER)
def handover_print(request, shift):
    """交班单 on the till printer; the shift screen's button."""

    def act():
        job = services.handover_print(shift_id=shift)
        return _("Sent to %(printer)s.") % {"printer": job.printer.name}

    return _action(request, reverse("payments:shift"), act)
