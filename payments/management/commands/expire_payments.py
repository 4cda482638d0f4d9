import time

from django.core.management.base import BaseCommand

from payments.services import payments_expire_due


class Command(BaseCommand):
    help = (
        "Expire QR payments not completed in time (closed at the gateway first) and pay-first "
        "orders not paid in time. Run it from cron, or with --every N as a small worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds")

    def handle(self, *args, every, **options):
        while True:
            expired = payments_expire_due()
            if expired:
                self.stdout.write(f"{expired} payment(s) expired")
            if every <= 0:
                return
            time.sleep(every)
