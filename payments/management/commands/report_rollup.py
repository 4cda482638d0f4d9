"""Sum the reports' roll-up of every closed business day that has none or whose bills changed
since (the day close does this itself; this is for days closed before the roll-up existed)."""

from typing import Any

from django.core.management.base import BaseCommand

from payments.reports.rollup import rollup_refresh


class Command(BaseCommand):
    help = "Sum the reports' roll-up of the closed business days that need it."

    def handle(self, *args: Any, **options: Any) -> None:
        days = rollup_refresh()
        self.stdout.write(f"{len(days)} closed day(s) summed")
