"""`python manage.py serve`: daphne and the worker together, as `make run` starts them.

One command for trying Diancan out: both start, and both stop when either exits or on Ctrl-C
or SIGTERM. In production run them as separate services instead (README, "Production").
"""

import signal
import subprocess
import sys
import threading

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run daphne and the worker together; stop both when either stops."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, bind, port, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        python = sys.executable
        children = [
            subprocess.Popen(
                [python, "-m", "daphne", "--bind", bind, "--port", str(port)]
                + ["restaurant.asgi:application"]
            ),
            subprocess.Popen([python, "-m", "django", "worker"]),
        ]
        while not stop.is_set() and all(child.poll() is None for child in children):
            stop.wait(0.5)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        failed = [child.returncode for child in children if child.returncode not in (0, -15)]
        if failed and not stop.is_set():
            sys.exit(f"serve: a process stopped with {failed[0]}")
