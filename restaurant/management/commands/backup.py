"""`python manage.py backup`: the database and the photos into one new backup set, then old
sets pruned (keep the newest of each of the last BACKUP_KEEP_DAILY days and BACKUP_KEEP_MONTHLY
months). Encrypted when the passphrase variable (BACKUP_PASSPHRASE) is set; `--encrypt`
refuses to run without it, so a scheduled job that lost its passphrase fails loudly instead of
writing plain backups. README.md, "Backups"."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from restaurant.backups import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = "Back up the database and the uploaded photos into a new folder, then prune old ones."

    def add_arguments(self, parser):
        parser.add_argument("--to", type=Path, help="the backups' folder (BACKUP_DIR)")
        parser.add_argument("--keep-daily", type=int, help="days kept (BACKUP_KEEP_DAILY)")
        parser.add_argument("--keep-monthly", type=int, help="months kept (BACKUP_KEEP_MONTHLY)")
        parser.add_argument("--no-media", action="store_true", help="leave the photos out")
        parser.add_argument("--no-prune", action="store_true", help="delete no old backup")
        parser.add_argument("--encrypt", action="store_true", help="refuse to run unencrypted")
        parser.add_argument(
            "--passphrase-env",
            default="BACKUP_PASSPHRASE",
            help="the environment variable holding the passphrase (BACKUP_PASSPHRASE)",
        )

    def handle(self, *args, **options):
        folder = options["to"] or settings.BACKUP_DIR
        passphrase = os.environ.get(options["passphrase_env"], "")
        if options["encrypt"] and not passphrase:
            raise CommandError(f"--encrypt: {options['passphrase_env']} is not set.")
        daily = options["keep_daily"] or settings.BACKUP_KEEP_DAILY
        monthly = settings.BACKUP_KEEP_MONTHLY
        if options["keep_monthly"] is not None:
            monthly = options["keep_monthly"]
        try:
            made = backup_create(to=folder, passphrase=passphrase or None,
                                 media=not options["no_media"])  # fmt: skip
        except BackupError as error:
            raise CommandError(f"Backup failed: {error}") from None
        sizes = ", ".join(f"{f['name']} {f['bytes']:,} bytes" for f in made.manifest["files"])
        state = "encrypted" if passphrase else "not encrypted"
        self.stdout.write(f"Backed up to {made.folder} ({state}): {sizes}.")
        if not options["no_prune"]:
            for path in backups_prune(folder=folder, daily=daily, monthly=monthly):
                self.stdout.write(f"Removed the old backup {path.name}.")
