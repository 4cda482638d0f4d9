"""`python manage.py start_demo`: what `make run` does before serving, in one process.

Migrates only when a migration is unapplied and loads the demo only into an empty menu, so a
second start costs one Django start-up instead of three (README, "Run it").
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Migrate if needed, load the demo if the menu is empty, print the links and logins."

    def handle(self, *args, **options):
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False)
        call_command("load_demo", if_empty=True)
        call_command("demo_info")
