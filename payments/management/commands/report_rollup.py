"""Sum the reports' roll-up of every closed, finished business day that has none or a stale one
(the worker does this every round; this is the same at once, without a worker)."""

from typing import Any

from django.core.management.base import BaseCommand

from payments.reports.rollup import rollup_refresh


class Command(BaseCommand):
    help = "Sum the reports' roll-up of the closed business days that need it."

    def handle(self, *args: Any, **options: Any) -> None:
        days = rollup_refresh()
        self.stdout.write(f"{len(days)} closed day(s) summed")
