"""Sending print jobs: the worker's job `print` (restaurant/management/commands/worker.py).

Only the worker imports this module (and with it python-escpos, whose import is slow): pages
and sockets queue jobs through `services.py` and never reach a printer.
"""

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from . import realtime, render, transport
from .models import Printer, PrintJob

logger = logging.getLogger("printing")

# A worker holds a printer while it sends to it; a crashed worker's hold runs out after this.
CLAIM_SECONDS = 60
# Waits between tries of a printer that failed: 2, 4, 8, 16, then every 30 seconds.
BACKOFF_SECONDS = (2, 4, 8, 16, 30)
# Printers sent to at once by one worker round (each in a thread of its own).
PARALLEL_PRINTERS = 8
# Printed jobs are kept this long (for reprints and the print queue page), then deleted.
KEEP_DAYS = 30


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try in a row."""
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def _due_printer_ids(now: datetime) -> list[int]:
    """Printers in use whose oldest waiting job is due (a printer's later jobs wait behind it)."""
    waiting = (
        PrintJob.objects.filter(status=PrintJob.Status.QUEUED, printer__active=True)
        .order_by()
        .values_list("printer", flat=True)
        .distinct()
    )
    due = []
    for printer_id in sorted(waiting):
        head = (
            PrintJob.objects.filter(printer_id=printer_id, status=PrintJob.Status.QUEUED)
            .order_by("sequence")
            .values_list("next_try_at", flat=True)
            .first()
        )
        if head is not None and head <= now:
            due.append(printer_id)
    return due


def print_jobs_send(*, now: datetime | None = None) -> int:
    """One round of the worker: every printer with a job due gets its waiting jobs, in order,
    each printer in a thread of its own (a dead printer's timeouts do not hold up the others).
    Returns how many jobs were printed."""
    now = now or timezone.now()
    print_jobs_purge(now=now)
    printer_ids = _due_printer_ids(now)
    if not printer_ids:
        return 0
    if len(printer_ids) == 1 or PARALLEL_PRINTERS == 1:
        return sum(printer_send(printer_id=pk, now=now) for pk in printer_ids)
    with ThreadPoolExecutor(max_workers=min(PARALLEL_PRINTERS, len(printer_ids))) as pool:
        return sum(
            pool.map(lambda pk: _in_thread(printer_send, printer_id=pk, now=now), printer_ids)
        )


_purged: dict[str, datetime | None] = {"at": None}


def print_jobs_purge(*, now: datetime, force: bool = False) -> int:
    """Printed jobs older than KEEP_DAYS go, at most once an hour per worker process (a kitchen
    prints thousands a week); waiting and failed jobs stay whatever their age."""
    if not force and _purged["at"] and now - _purged["at"] < timedelta(hours=1):
        return 0
    _purged["at"] = now
    cutoff = now - timedelta(days=KEEP_DAYS)
    deleted, _ = PrintJob.objects.filter(
        status=PrintJob.Status.SENT, created_at__lt=cutoff
    ).delete()
    return deleted


def _in_thread(function, **kwargs):
    try:
        return function(**kwargs)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # each thread's own connection, not left open


def _claim(printer_id: int, token: str, now: datetime) -> bool:
    """Compare-and-set: this worker holds the printer until the claim runs out, so two worker
    copies never send the same printer's jobs at once (which would print them twice, or out of
    order). A crashed worker's claim runs out and another copy carries on."""
    return bool(
        Printer.objects.filter(pk=printer_id, active=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by=token))
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), claimed_by=token)
    )


def printer_send(*, printer_id: int, now: datetime | None = None) -> int:
    """Send one printer's waiting jobs, oldest first, while it takes them. A job counts as
    printed once its bytes are written and the printer's status, asked after them, is fine;
    until then it stays queued and is tried again after a back-off (nothing is lost)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    if not _claim(printer_id, token, now):
        return 0  # another worker copy is sending to it
    printed = 0
    try:
        printer = Printer.objects.get(pk=printer_id)
        # What prints while the printer comes back was due earlier: its slips say 补打 (late).
        recovering = printer.failing_since is not None
        while True:
            job = (
                PrintJob.objects.filter(printer_id=printer_id, status=PrintJob.Status.QUEUED)
                .order_by("sequence")
                .first()
            )
            if job is None or job.next_try_at > now:
                break
            try:
                data = render.job_bytes(job, printer, late=recovering or job.attempts > 0)
            except Exception as error:  # a job that cannot be rendered would block the queue
                logger.exception("printing: job %s cannot be rendered", job.pk)
                PrintJob.move(job.pk, PrintJob.Status.FAILED, last_error=str(error)[:200])
                continue
            try:
                transport.send(printer.host, printer.port, data)
            except transport.PrinterError as error:
                _failed(printer, job, str(error), now)
                break
            PrintJob.move(
                job.pk,
                PrintJob.Status.SENT,
                printer_id=printer_id,
                sent_at=timezone.now(),
                attempts=F("attempts") + 1,
                last_error="",
            )
            printed += 1
            if printer.failing_since is not None:
                Printer.objects.filter(pk=printer_id).update(failing_since=None, last_error="")
                printer.failing_since = None
                realtime.push_printers()
            if not _claim(printer_id, token, now):
                break  # the claim was lost (this round took too long): another copy goes on
    finally:
        Printer.objects.filter(pk=printer_id, claimed_by=token).update(
            claimed_until=None, claimed_by=""
        )
    return printed


def _failed(printer: Printer, job: PrintJob, error: str, now: datetime) -> None:
    attempts = job.attempts + 1
    PrintJob.objects.filter(pk=job.pk, status=PrintJob.Status.QUEUED).update(
        attempts=attempts, next_try_at=now + backoff(attempts), last_error=error[:200]
    )
    logger.warning("printing: %s (%s) failed: %s", printer.name, printer.address, error)
    changed = Printer.objects.filter(pk=printer.pk).update(
        failing_since=printer.failing_since or now, last_error=error[:200]
    )
    if changed and (printer.failing_since is None or printer.last_error != error[:200]):
        realtime.push_printers()
