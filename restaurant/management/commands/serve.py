"""`python manage.py serve`: daphne and the worker together, as `make run` starts them.

One command for trying Diancan out: both start, and both stop when either exits or on Ctrl-C
or SIGTERM. In production run them as separate services instead (README, "Production").

On the embedded default (no REDIS_URL) the in-memory channel layer reaches only the sockets of
its own process, so the worker runs inside the one daphne process (restaurant/worker_inside.py);
with Redis it is a process of its own beside daphne.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from django.conf import settings
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
        inside = not settings.REDIS_URL
        daphne = subprocess.Popen(
            [python, "-m", "daphne", "--bind", bind, "--port", str(port)]
            + ["restaurant.asgi:application"],
            env={**os.environ, "WORKER_IN_PROCESS": "true"} if inside else None,
        )
        children = [daphne]
        if inside:
            _first_call(bind, port, daphne, stop)  # starts the worker inside daphne
        else:
            children.append(subprocess.Popen([python, "-m", "django", "worker"]))
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


def _first_call(bind, port, daphne, stop, timeout=60):
    """Ask daphne's /healthz until it answers (any answer: the call starts the worker inside)."""
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
    deadline = time.monotonic() + timeout
    while not stop.is_set() and daphne.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # answered (a redirect to HTTPS, a host not allowed): the app was called
        except OSError:
            time.sleep(0.2)
