"""What the benchmarks share: their database and environment, a daphne process they start and
always stop, a small HTTP/1.1 client, a percentile, the demo kitchen login and the machine's
description. Scripts in bench/ import it as `common` (bench/ is on sys.path when they run)."""

import asyncio
import os
import platform
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
# BENCH_SUFFIX keeps the databases of benchmarks run at once on one server apart (`_events`).
SUFFIX = os.environ.get("BENCH_SUFFIX", "")
BENCH_DATABASE = "diancan_bench" + SUFFIX


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# The environment and the database ---------------------------------------------------------------


def random_secret_key(length=50):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_database_url(name=BENCH_DATABASE):
    """A database of the benchmark's own: `name` beside DATABASE_URL's, or a file."""
    name = name if name.endswith(SUFFIX) else name + SUFFIX
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        path = OUT / "bench.sqlite3"
        for leftover in OUT.glob("bench.sqlite3*"):
            leftover.unlink()
        return f"sqlite:///{path}"
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(
            f"DATABASE_URL must be postgres://… for the benchmark, not {parts.scheme}://"
        )
    import psycopg

    admin_url = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def bench_environment(port, database=BENCH_DATABASE):
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "restaurant.settings",
            "DEBUG": "false",
            "HTTPS": "false",  # plain HTTP on loopback: no TLS proxy in front
            "SECRET_KEY": random_secret_key(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": bench_database_url(database),
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "MEDIA_ROOT": str(OUT / "media"),
            "CHANNEL_PREFIX": f"diancan-bench-{uuid.uuid4().hex[:8]}",
            "PYTHONUNBUFFERED": "1",
            # The benchmarks measure the spine, not the guard rails: phones open their tables
            # and a table may order faster than a person would.
            "TABLE_OPENING": "diner",
            "MAX_ORDERS_PER_MINUTE": "100000",
        }
    )
    return env


def manage(env, *args):
    log("manage.py " + " ".join(args))
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def load_demo(env):
    """The demo restaurant with its documented staff logins, which the benchmarks sign in with.
    Only this step runs with DEBUG on: with DEBUG off load_demo refuses (or, when allowed,
    gives the staff random passwords); the server itself still runs with DEBUG off."""
    manage({**env, "DEBUG": "true"}, "load_demo")


def prepare_database(env):
    shutil.rmtree(OUT / "media", ignore_errors=True)
    manage(env, "migrate", "--noinput")
    load_demo(env)
    manage(env, "collectstatic", "--noinput")


def setup_django(env):
    """Django in this process, on the benchmark's database, for the in-process parts."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def plain_dishes(count):
    """The first `count` dishes anyone can order plain: active, not sold out, no stock limit and
    no required choice. Needs setup_django() first."""
    from django.db.models import Exists, OuterRef

    from menu.models import Dish, OptionGroup

    required = OptionGroup.objects.filter(dish=OuterRef("pk"), min_choices__gt=0)
    return list(
        Dish.objects.filter(active=True, category__active=True, sold_out=False, stock__isnull=True)
        .exclude(Exists(required))
        .order_by("pk")[:count]
    )


# A daphne process -------------------------------------------------------------------------------


class Daphne:
    """One daphne process serving the benchmark's database; `stop()` always ends it."""

    def __init__(self, env, port, log_path=None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path or OUT / "daphne.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")  # closed in stop()
        command = [
            PYTHON,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "restaurant.asgi:application",
        ]
        log(" ".join(command[1:]))
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_until_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"daphne exited at start; see {self.log_path}")
            try:
                status, _headers, _body = http_get(self.port, "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"daphne did not answer /healthz within {timeout} s; see {self.log_path}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


# A small HTTP/1.1 keep-alive client -----------------------------------------------------------


class HttpConnection:
    """One keep-alive connection; enough HTTP/1.1 for Django behind daphne."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method, path, headers=(), body=b""):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        head += [f"{name}: {value}" for name, value in headers]
        if body:
            head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        return await self.read_response()

    async def read_response(self):
        status_line, *header_lines = (
            (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        )
        status = int(status_line.split()[1])
        headers = []
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers.append((name.strip().lower(), value.strip()))
        fields = dict(headers)
        if "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                body += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
        else:
            body = await self.reader.read()
            await self.close()
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def http_get(port, path, headers=()):
    """One request on a connection of its own: (status, [(name, value)], body)."""

    async def get():
        connection = HttpConnection(port)
        try:
            return await asyncio.wait_for(connection.request("GET", path, headers), 10)
        finally:
            await connection.close()

    return asyncio.run(get())


def cookies_from(headers):
    """name → value of every Set-Cookie in a response."""
    found = {}
    for name, value in headers:
        if name == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            found[key.strip()] = val.strip()
    return found


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-fraction * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# The demo staff users ----------------------------------------------------------------------------


def kitchen_session(port):
    """Logs in as the demo kitchen user through the login form; returns the sessionid."""
    return staff_session(port, "kitchen", "diancan-kitchen")


def staff_session(port, username, password):
    """Logs in as a demo staff user through the login form; returns the sessionid."""

    async def login():
        connection = HttpConnection(port)
        try:
            _status, headers, _body = await connection.request("GET", "/accounts/login/")
            csrf = cookies_from(headers)["csrftoken"]
            form = f"username={username}&password={password}&csrfmiddlewaretoken={csrf}".encode()
            status, headers, _body = await connection.request(
                "POST",
                "/accounts/login/",
                [
                    ("Cookie", f"csrftoken={csrf}"),
                    ("Origin", f"http://127.0.0.1:{port}"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                form,
            )
        finally:
            await connection.close()
        session = cookies_from(headers).get("sessionid")
        if status != 302 or not session:
            raise SystemExit(f"{username} login failed: {status}")
        return session

    return asyncio.run(login())


# The machine -------------------------------------------------------------------------------------


def read_first(path, prefix):
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def machine():
    import channels
    import daphne
    import django
    from django.conf import settings
    from django.db import connection

    memory_kb = read_first("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024 / 1024:.1f} GiB" if memory_kb != "?" else "?"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0].split()[0]
        pool = connection.settings_dict["OPTIONS"].get("pool")
        database = f"PostgreSQL {server}" + (
            f" (psycopg pool, max {pool['max_size']})" if pool else " (no pool)"
        )
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version} (file)"
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[1]
    if os.environ.get("REDIS_URL"):
        layer += f" ({os.environ['REDIS_URL']})"
    return {
        "cpu": f"nproc {nproc()}, {read_first('/proc/cpuinfo', 'model name')}",
        "memory": memory,
        "load": Path("/proc/loadavg").read_text().split()[:3]
        if Path("/proc/loadavg").exists()
        else ["?"],
        "software": f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"channels {channels.__version__}, daphne {daphne.__version__}",
        "database": database,
        "layer": f"{layer}; cache {cache}",
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %z"),
    }


def nproc():
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        return "?"
