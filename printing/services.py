"""Writes of printing: queueing jobs (after the events they print have committed), reprinting,
moving a dead printer's queue. Sending is the worker's (`sender.py`).

Nothing here talks to a printer: a job is a row, and the worker sends it.
"""

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from orders import selectors as order_selectors
from payments import selectors as payment_selectors
from restaurant.lib.errors import Code, Refused

from . import realtime
from .models import Printer, PrintJob

# Queueing ---------------------------------------------------------------------------------------


def _enqueue(printers, *, kind, title, payload, tab_id=None, order_id=None, **extra):
    """One job per printer, numbered after the printer's last job (its row locked meanwhile,
    so two requests queueing at once never take the same number)."""
    jobs = []
    for printer in printers:
        with transaction.atomic():
            Printer.objects.select_for_update().filter(pk=printer.pk).first()
            top = PrintJob.objects.filter(printer_id=printer.pk).aggregate(top=Max("sequence"))
            jobs.append(
                PrintJob.objects.create(
                    printer_id=printer.pk,
                    sequence=(top["top"] or 0) + 1,
                    kind=kind,
                    title=title[:120],
                    payload=payload,
                    tab_id=tab_id,
                    order_id=order_id,
                    **extra,
                )
            )
    return jobs


def _active_printers():
    return list(Printer.objects.filter(active=True).prefetch_related("stations"))


def _station_printers(printers, station_id):
    return [p for p in printers if any(s.pk == station_id for s in p.stations.all())]


def _local(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _head(order, at=None):
    tab = order.tab
    return {
        "table": tab.table.code,
        "table_name": tab.table.display_name,
        "round": order.number,
        "guests": tab.guests,
        "ordered_at": _local(order.created_at),
        "at": _local(at or order.created_at),
        "tab": tab.pk,
        "order": order.pk,
    }


def _line(line):
    return {
        "name": line.name,
        "name_en": line.name_en,
        "options": list(line.options),
        "options_en": list(line.options_en),
        "note": line.note,
        "quantity": line.quantity,
        "held": line.is_held,
        "station": line.station.name if line.station_id else "",
    }


def order_tickets_queue(*, order_id: int) -> list[PrintJob]:
    """A new order (or a pay-first order just paid): one ticket per station, on each of the
    station's printers, and the whole order on the pass printers. An order still waiting for
    its payment prints nothing yet. A shop without printers pays one query per order."""
    printers = _active_printers()
    if not printers:
        return []
    order = order_selectors.order_for_print(order_id)
    if order is None or order.awaiting_payment:
        return []
    lines = [line for line in order.lines.all() if not line.is_voided]
    if not lines:
        return []
    head = _head(order)
    kind = PrintJob.Kind.TICKET if order.number == 1 else PrintJob.Kind.ADDON
    by_station = defaultdict(list)
    for line in lines:
        if line.station_id:
            by_station[line.station_id].append(line)
    jobs = []
    for station_lines in by_station.values():
        station = station_lines[0].station
        assert station is not None  # grouped by station_id above
        jobs += _enqueue(
            _station_printers(printers, station.pk),
            kind=kind,
            title=f"{head['table']} #{order.number} · {station.name}",
            payload={**head, "station": station.name, "lines": [_line(x) for x in station_lines]},
            tab_id=head["tab"],
            order_id=order.pk,
        )
    jobs += _enqueue(
        [p for p in printers if p.prints_pass],
        kind=PrintJob.Kind.PASS,
        title=f"{head['table']} #{order.number}",
        payload={**head, "lines": [_line(x) for x in lines]},
        tab_id=head["tab"],
        order_id=order.pk,
    )
    return jobs


SLIP_TITLES: dict[str, str] = {
    PrintJob.Kind.URGE: "催菜",
    PrintJob.Kind.VOID: "退菜",
    PrintJob.Kind.FIRE: "起菜",
}


def line_slip_queue(*, line_id: int, kind: str, **extra: Any) -> list[PrintJob]:
    """催菜, 退菜 or 起菜 of one dish: a short slip on its station's printers. Nothing for a dish
    the kitchen never saw (an unpaid pay-first order) or one without a station."""
    printers = _active_printers()
    if not printers:
        return []
    line = order_selectors.line_for_print(line_id)
    if line is None or line.order.awaiting_payment or line.station is None:
        return []
    payload = {
        **_head(line.order, at=timezone.now()),
        "station": line.station.name,
        "line": _line(line),
        "urges": line.urge_count,
        **extra,
    }
    return _enqueue(
        _station_printers(printers, line.station_id),
        kind=kind,
        title=f"{line.order.tab.table.code} {SLIP_TITLES.get(kind, '')} {line.name}",
        payload=payload,
        tab_id=line.order.tab_id,
        order_id=line.order_id,
    )


def till_printer() -> Printer:
    """The printer bills and receipts go to: the first till printer in use."""
    printer = Printer.objects.filter(active=True, prints_receipts=True).first()
    if printer is None:
        raise Refused(Code.NO_TILL_PRINTER)
    return printer


def _payments(bill):
    return [
        {
            "method": p.method,
            "amount": str(p.amount),
            "tendered": str(p.tendered) if p.tendered is not None else None,
            "change": str(p.change),
            "refunds": [
                {"amount": str(r.amount), "reason": r.reason} for r in p.refunds.all() if r.is_done
            ],
        }
        for p in bill["payments"]
        if p.is_paid
    ]


def bill_print(*, tab_id: int, kind: str) -> PrintJob:
    """结账单 (before paying: what is owed, with the pay page's QR code) or the paid receipt
    (payments, change and refunds, with the e-receipt's QR code) on the till printer, as the
    settlement stands now."""
    if kind not in (PrintJob.Kind.PREBILL, PrintJob.Kind.RECEIPT):
        raise Refused(Code.NOT_FOUND)
    printer = till_printer()
    if not order_selectors.tab_exists(tab_id):
        raise Refused(Code.UNKNOWN_TAB)
    bill = payment_selectors.bill_view(tab_id)
    tab, settlement = bill["tab"], bill["settlement"]
    succeeded = [p for p in bill["payments"] if p.is_paid]
    if kind == PrintJob.Kind.RECEIPT:
        last = succeeded[-1] if succeeded else None
        link = last and reverse("payments:receipt", args=[last.reference])
    else:
        link = reverse("payments:pay", args=[tab.table.token]) if not tab.is_closed else None
    payload = {
        "restaurant": settings.RESTAURANT_NAME,
        "table": tab.table.code,
        "table_name": tab.table.display_name,
        "tab": tab.pk,
        "guests": tab.guests,
        "opened_at": _local(tab.opened_at),
        "at": _local(timezone.now()),
        "settlement": settlement,
        "bill_discount_reason": tab.discount_reason,
        "payments": _payments(bill),
        "due": str(bill["due"]),
        "qr": settings.PUBLIC_URL + link if link else "",
    }
    (job,) = _enqueue(
        [printer], kind=kind, title=f"{tab.table.code} #{tab.pk}", payload=payload, tab_id=tab.pk
    )
    return job


def handover_print(*, shift_id: int) -> PrintJob:
    """交班单: a handed-over shift's slip on the till printer, with the figures kept at the
    handover (payments' books)."""
    printer = till_printer()
    slip = payment_selectors.handover_slip(shift_id)
    if slip is None:
        raise Refused(Code.NOT_FOUND)
    payload = {"restaurant": settings.RESTAURANT_NAME, "at": _local(timezone.now()), **slip}
    (job,) = _enqueue(
        [printer],
        kind=PrintJob.Kind.HANDOVER,
        title=f"{slip['till']} {slip['cashier']}",
        payload=payload,
    )
    return job


def test_page_print(*, printer_id: int) -> PrintJob:
    """A test page (Chinese text, a QR code, a cut) to set a printer up."""
    printer = Printer.objects.filter(pk=printer_id).first()
    if printer is None:
        raise Refused(Code.UNKNOWN_PRINTER)
    payload = {"restaurant": settings.RESTAURANT_NAME, "at": _local(timezone.now())}
    (job,) = _enqueue([printer], kind=PrintJob.Kind.TEST, title=printer.name, payload=payload)
    return job


def job_reprint(*, job_id: int) -> PrintJob:
    """The same ticket or receipt again, as it was, marked 重印, at the end of its printer's
    queue (or of the printer its queue was moved to)."""
    job = PrintJob.objects.select_related("printer").filter(pk=job_id).first()
    if job is None:
        raise Refused(Code.UNKNOWN_PRINT_JOB)
    (copy,) = _enqueue(
        [job.printer],
        kind=job.kind,
        title=job.title,
        payload={**job.payload, "reprint": True},
        tab_id=job.tab_id,
        order_id=job.order_id,
        reprint_of=job,
    )
    return copy


def jobs_move(*, from_printer_id: int, to_printer_id: int) -> int:
    """A dead printer's waiting jobs go to another printer, after that one's own, in their
    order; each slip says where it was meant to print. Returns how many moved."""
    if from_printer_id == to_printer_id:
        raise Refused(Code.BAD_PRINTER_MOVE)
    with transaction.atomic():
        # Both rows locked in id order (the one lock order), so two moves never deadlock, and
        # no job is queued on either meanwhile.
        locked = {
            p.pk: p
            for p in Printer.objects.select_for_update()
            .filter(pk__in=[from_printer_id, to_printer_id])
            .order_by("pk")
        }
        source, target = locked.get(from_printer_id), locked.get(to_printer_id)
        if source is None or target is None:
            raise Refused(Code.UNKNOWN_PRINTER)
        if not target.active:
            raise Refused(Code.BAD_PRINTER_MOVE)
        now = timezone.now()
        if source.claimed_until and source.claimed_until > now:
            # A worker is sending to it this moment: a job moved now could come out of both.
            # (The worker's claim waits on this row lock, so none starts while jobs move.)
            raise Refused(Code.PRINTER_BUSY)
        top = PrintJob.objects.filter(printer=target).aggregate(top=Max("sequence"))["top"] or 0
        waiting = list(
            PrintJob.objects.filter(printer=source, status=PrintJob.Status.QUEUED).order_by(
                "sequence"
            )
        )
        for number, job in enumerate(waiting, start=top + 1):
            # Compare-and-set on the status: a job the worker printed meanwhile stays printed.
            PrintJob.objects.filter(pk=job.pk, status=PrintJob.Status.QUEUED).update(
                printer=target,
                sequence=number,
                moved_from=source.name,
                attempts=0,
                next_try_at=now,
                last_error="",
            )
        # Nothing left to try on the dead printer: its alert ends (it shows again if a new job
        # for it fails).
        Printer.objects.filter(pk=source.pk).update(failing_since=None)
        realtime.push_printers()
    return len(waiting)
