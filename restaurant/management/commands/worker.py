"""`python manage.py worker`: Diancan's timed work, in a process beside daphne (`make run` starts
both). Requests and sockets only read and record; what is due later happens here.

Each job is a sweep over rows that are due (a payment past its expiry, an order not paid in
time): the database is the queue. Any number of copies may run at once, on any host: each job
claims what it does in the database (a compare-and-set, or the tab's row lock), so nothing is
done twice, and a copy that dies mid-job leaves its claim to run out for another to retry.
Gateway calls happen with no transaction open and no row locked.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from payments.bills import bills_fetch_due
from payments.members.services import points_expire_due
from payments.reports.reconcile import bills_missing_due, reconcile_due
from payments.reports.rollup import rollup_round
from payments.services import gateways_settle, payments_expire_due
from printing.sender import print_jobs_send
from restaurant.backups import backup_due

logger = logging.getLogger("worker")

# (name, function): each runs once per round. Later jobs go here, written the same way: find
# what is due, claim it, do it, record it.
JOBS: list[tuple[str, Callable[[], object]]] = [
    # QR payments not completed in time (closed at the gateway first) and pay-first orders not
    # paid in time (their stock goes back).
    ("expire", payments_expire_due),
    # What a gateway time-out left unknown: pending QR payments and refunds are asked about
    # through the gateway's query API (each payment claimed by compare-and-set first).
    ("settle", gateways_settle),
    # Yesterday's trade bill of each gateway, once published (payments/bills.py).
    ("bills", bills_fetch_due),
    # Yesterday's bills against our payments, once they are in and again when they change: what
    # the gateways have and we do not is asked about; what is still wrong is an alert.
    ("reconcile", reconcile_due),
    # A gateway that had trades yesterday and whose bill is still not in at 14:00: one alert
    # per gateway and day (payments/reports/reconcile.py, BILL_LATE_HOUR).
    ("bills_missing", bills_missing_due),
    # Kitchen tickets, slips and receipts, to each printer in order, each once; a printer that
    # fails keeps its jobs and is tried again after a back-off (printing/README.md).
    ("print", print_jobs_send),
    # Members' points from before this year, from 1 January (POINTS_EXPIRE_AT_YEAR_END).
    ("points", points_expire_due),
    # The reports' roll-up of each closed day once it is over, and again after a change marked
    # it stale (payments/reports/rollup.py), a few days per round: two small reads when nothing
    # is due.
    ("rollup", rollup_round),
    # The day's backup from BACKUP_AT on, once (a row per day claims it); off without BACKUP_AT.
    # Last: a round waits for it (seconds on a restaurant's database), at a quiet hour.
    ("backup", backup_due),
]


def run_jobs():
    """One round of every job; a job that fails is logged and the others still run."""
    for name, job in JOBS:
        started = time.monotonic()
        try:
            done = job()
        except Exception:
            logger.exception("worker: %s failed", name)
        else:
            if done:
                logger.info("worker: %s did %s in %.0f ms", name, done, _ms(started))


def _ms(started):
    return (time.monotonic() - started) * 1000


class Command(BaseCommand):
    help = (
        "Run the timed jobs (expiry, gateway queries, bills, printing, backups) every few seconds "
        "until stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=5, help="seconds between rounds (default 5)"
        )
        parser.add_argument("--once", action="store_true", help="run one round and stop")

    def handle(self, *args, every, once, **options):
        if once:
            run_jobs()
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        names = ", ".join(name for name, _job in JOBS)
        logger.info("worker: started (%s every %g s)", names, every)
        while not stop.is_set():
            run_jobs()
            close_old_connections()  # a connection lost meanwhile is opened anew next round
            stop.wait(every)
        logger.info("worker: stopped")
