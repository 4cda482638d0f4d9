"""A real daphne process serving the test database, for browser and multi-process tests."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url():
    """The URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}{db['HOST']}{port}/{db['NAME']}"


def end(process):
    """Stop a child process politely, then firmly if it lingers past ten seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Daphne:
    def __init__(self, prefix=None, log_dir=None, env=None):
        self.port = free_port()
        self.prefix = prefix or f"test-{uuid.uuid4().hex[:8]}"
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": test_database_url(),
            "PUBLIC_URL": self.url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "DB_POOL_SIZE": "4",
            "CHANNEL_PREFIX": self.prefix,
            **(env or {}),
        }
        self.log = open(Path(log_dir or "/tmp") / f"daphne-{self.port}.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "restaurant.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not start: {self.output()}")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self):
        end(self.process)
        self.log.close()


class Worker:
    """A `manage.py worker` process on the test database, its log in a file."""

    def __init__(self, *args, log_dir=None, env=None):
        self.path = Path(log_dir or "/tmp") / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.log = open(self.path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "worker", *args],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "restaurant.settings",
                "DEBUG": "true",
                "DATABASE_URL": test_database_url(),
                "DB_POOL_SIZE": "2",
                "LOG_LEVEL": "INFO",
                **(env or {}),
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self):
        return self.path.read_text()

    def wait_for(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker never said {text!r}: {self.output()[-4000:]}")
            time.sleep(0.1)

    def stop(self):
        end(self.process)
        self.log.close()
        return self.process.returncode
