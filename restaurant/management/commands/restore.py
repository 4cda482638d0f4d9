"""`python manage.py restore <backup folder>`: check the backup whole (every file's SHA-256,
then the passphrase when it is encrypted), restore the database into the EMPTY database
DATABASE_URL points at (refused otherwise) and the photos into an empty MEDIA_ROOT, then check
the ledger. README.md, "Backups"."""

import os
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from restaurant.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into an empty database and MEDIA_ROOT."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="the backup set (diancan-…)")
        parser.add_argument("--no-media", action="store_true", help="leave the photos out")
        parser.add_argument(
            "--passphrase-env",
            default="BACKUP_PASSPHRASE",
            help="the environment variable holding the passphrase (BACKUP_PASSPHRASE)",
        )

    def handle(self, *args, **options):
        passphrase = os.environ.get(options["passphrase_env"], "") or None
        try:
            manifest = backup_restore(
                folder=options["folder"], passphrase=passphrase, media=not options["no_media"]
            )
        except BackupError as error:
            raise CommandError(f"Restore refused: {error}") from None
        photos = manifest.get("media_files_restored")
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} ({manifest['database']['vendor']}"
            + (f", {photos} photo files" if photos is not None else "")
            + f"). The ledger then had {manifest['ledger']['entries']} entries"
            + (f", last hash {last}." if (last := manifest["ledger"]["last_hash"]) else ".")
        )
        if manifest["to_migrate"]:
            self.stdout.write(
                "This code is newer than the backup for "
                + ", ".join(manifest["to_migrate"])
                + ": run `manage.py migrate` before serving."
            )
        call_command("check_ledger", stdout=self.stdout)
