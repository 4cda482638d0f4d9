"""Benchmark of Diancan's kitchen on the production stack: two daphne processes sharing one
PostgreSQL and one Redis, 100 staff screens and 50 diner phones while 50 tables order at once.
It prints figures; it is not a test and asserts nothing. It needs PostgreSQL and Redis:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/10 \
        .venv/bin/python bench/bench_kitchen.py

What it does, all on loopback, bounded in count and time, and stopping by itself:

1. Builds its own database `diancan_bench_kitchen` on DATABASE_URL's server (dropped and created
   anew), then migrate, load_demo and collectstatic, with DEBUG off and a random SECRET_KEY.
   Both processes share one random CHANNEL_PREFIX on REDIS_URL. The demo has 12 tables; more are
   made here so that 50 tables order. A kitchen device token is issued here too.
2. Starts two daphne processes, A and B, on free ports, and stops them at the end, also on errors.
3. Opens 100 staff screens as the demo kitchen user, alternately on A and B: 20 all-stations
   boards (/ws/kitchen/), 15 boards of each demo station (/ws/kitchen/<slug>/) and 20 pass
   screens (/ws/pass/); and one diner phone per table (/ws/t/<token>/), on A or B by turns.
4. The rush: 50 tables order at once, 6 orders each, 1 to 3 dishes per order (required options
   chosen), posting to /api/v1/tables/<token>/orders on A and B by turns, with a pause of
   8 to 24 s before each order (about 2.5 orders/s in all, far above a busy dinner; the rush
   takes about two minutes). Measured:
   a. POST sent -> the ticket (`ticket-<order id>`) on each screen of the station owning a dish;
   b. fan-out: POST sent -> the ticket on every board that shows it (all-stations boards and
      the boards of the stations concerned);
   c. bump -> phone: the first dish of every third order, once its ticket is on its station's
      screen, is moved to `cooking` by a device POST to /api/v1/kitchen/lines/<id>/status on the
      process the table's phone is NOT on; timed to the phone receiving the tab fragment that
      shows `tab-line-<id>` with class `status-cooking`.
   Also: what never arrived, the most messages waiting in Redis for one process (every 0.1 s),
   and the CPU seconds each process took.
5. Quiet: 20 more bumps one at a time, each timed until ALL 80 kitchen boards have received it
   (every board gets the ticket or the new counts, every pass screen its board) and the phone.
6. Queries to render a board, in this process: board_view() plus rendering
   orders/kitchen.html#board, with 10 and with 100 open tickets.
7. Prints the machine, the software and the figures as plain text that a README can quote.

The client (every socket and every table) is one asyncio loop in this process; on a small
machine it competes for the CPU with the servers, so the report says how much CPU each took.
Progress goes to stderr, the report to stdout. Server logs go to bench/out/ (git-ignored).

BENCH_ONLY=burst runs only the burst (12 tables ordering 10 times each at once through A, one
all-stations board on B; README Performance), about a minute with the set-up instead of four:
for trying a change to the order path quickly.
"""

import asyncio
import bisect
import json
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from common import (
    OUT,
    Daphne,
    HttpConnection,
    bench_environment,
    free_port,
    kitchen_session,
    log,
    machine,
    percentile,
    prepare_database,
    setup_django,
)

DATABASE = "diancan_bench_kitchen"
TABLES = 50
ORDERS_PER_TABLE = 6  # 300 orders in all
DISHES_PER_ORDER = (1, 3)
PAUSE_SECONDS = (8.0, 24.0)  # before each order of a table: about 3 orders/s for 50 tables
BUMP_EVERY = 3  # the first dish of every third order is bumped during the rush
QUIET_BUMPS = 20
ALL_BOARDS = 20
BOARDS_PER_STATION = 15
PASS_SCREENS = 20
BOARD_TICKETS = (10, 100)
TIMEOUT = 15  # seconds any one awaited answer or message may take
RUN_LIMIT = 400  # seconds for all the socket work together
SEED = 2024

ARTICLE_TICKET = re.compile(r'<article\b[^>]*\bid="ticket-(\d+)"')
BOARD_LINE = re.compile(r'<li\b[^>]*\bid="line-(\d+)"[^>]*>')
TAB_LINE = re.compile(r'<li\b[^>]*\bid="tab-line-(\d+)"[^>]*>')


# 1. The database and what the tables order ----------------------------------------------------


def require_stack():
    database, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database or not redis_url:
        raise SystemExit(
            "bench_kitchen.py measures the production stack and needs PostgreSQL and Redis:\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "
            "REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python bench/bench_kitchen.py\n"
            "It makes (and drops first) a database diancan_bench_kitchen on that server."
        )
    if urlsplit(redis_url).scheme not in ("redis", "rediss"):
        raise SystemExit(f"REDIS_URL must be redis://…, not {redis_url}")
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_timeout=5).ping()
    except redis.RedisError as error:
        raise SystemExit(f"Redis at {redis_url} does not answer: {error}") from None


def kitchen_fixtures():
    """Tables enough for TABLES, the dishes to order, the stations and a kitchen device token."""
    from django.db import connections

    from menu.models import Dish, Station
    from orders import services as order_services
    from orders.models import Table
    from restaurant.lib.devices import DeviceToken

    demo_tables = Table.objects.filter(active=True).count()
    for n in range(demo_tables + 1, TABLES + 1):
        Table.objects.create(
            code=f"Z{n}", name=f"压测 Z{n}", area="压测", seats=4, position=1000 + n
        )
    tables = list(Table.objects.filter(active=True).order_by("position", "code")[:TABLES])
    # Each table's visit is open (开台), as for guests seated: a phone's socket opens none (a
    # read never writes), and a phone follows its tab's stream only once there is one.
    for table in tables:
        order_services.tab_for_table(table=table)
    tokens = [table.token for table in tables]
    # Every dish that cannot run out, with the first choices of its required option groups.
    dishes = []
    orderable = (
        Dish.objects.filter(
            active=True,
            category__active=True,
            sold_out=False,
            stock__isnull=True,
            station__isnull=False,
        )
        .select_related("station")
        .prefetch_related("option_groups__options")
    )
    for dish in orderable:
        options = []
        for group in dish.option_groups.all():
            options += [o.pk for o in group.options.all() if o.active][: group.min_choices]
        dishes.append({"id": dish.pk, "station": dish.station.slug, "options": options})
    stations = list(Station.objects.values_list("slug", flat=True))
    _device, device_token = DeviceToken.issue(name="bench kitchen", role="kitchen")
    connections.close_all()
    if len(tokens) < TABLES or not dishes or not stations:
        raise SystemExit("load_demo made too few tables, no orderable dish or no station")
    return {
        "tokens": tokens,
        "demo_tables": demo_tables,
        "made_tables": TABLES - min(demo_tables, TABLES),
        "dishes": dishes,
        "dish_station": {dish["id"]: dish["station"] for dish in dishes},
        "stations": stations,
        "device_token": device_token,
    }


# 2. Screens and what they receive -------------------------------------------------------------


@dataclass
class Screen:
    number: int
    kind: str  # "all", a station's slug, "pass" or "phone"
    path: str
    server: int  # 0: A, 1: B
    table: int | None = None
    times: list = field(default_factory=list)  # perf_counter of every message after the first
    received_bytes: int = 0
    dropped: str = ""


class Arrivals:
    """When each awaited thing first arrived, by key; `wait(key)` until it has."""

    def __init__(self):
        self.at = {}
        self.waiting = {}

    def record(self, key, at):
        if key in self.at:
            return
        self.at[key] = at
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(at)

    async def wait(self, key, timeout=TIMEOUT):
        """The time `key` arrived, or None when it did not within `timeout` seconds."""
        if key in self.at:
            return self.at[key]
        future = self.waiting.get(key)
        if future is None:
            future = self.waiting[key] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return None


def parse(screen, message, at, arrivals):
    """Records what a message brings: tickets and cooking dishes on boards, cooking on phones."""
    if screen.kind == "phone":
        for tag in TAB_LINE.finditer(message):
            if "status-cooking" in tag.group(0):
                arrivals.record(("phone", int(tag.group(1))), at)
    elif screen.kind != "pass":
        for found in ARTICLE_TICKET.finditer(message):
            order_id = int(found.group(1))
            arrivals.record(("ticket", screen.number, order_id), at)
            if screen.kind != "all":
                arrivals.record(("station", screen.kind, order_id), at)
        for tag in BOARD_LINE.finditer(message):
            if "status-cooking" in tag.group(0):
                arrivals.record(("cooking", screen.number, int(tag.group(1))), at)


def screen_plan(fixtures):
    """The 100 staff screens, then one phone per table; each kind alternates between A and B."""
    plan = [("all", "/ws/kitchen/", ALL_BOARDS)]
    plan += [(slug, f"/ws/kitchen/{slug}/", BOARDS_PER_STATION) for slug in fixtures["stations"]]
    plan += [("pass", "/ws/pass/", PASS_SCREENS)]
    screens = []
    for kind, path, count in plan:
        for n in range(count):
            screens.append(Screen(len(screens), kind, path, server=n % 2))
    for n, token in enumerate(fixtures["tokens"]):
        screens.append(Screen(len(screens), "phone", f"/ws/t/{token}/", server=n % 2, table=n))
    return screens


# 3. CPU taken by each process -----------------------------------------------------------------


def cpu_seconds(pids):
    """pid -> user and system CPU seconds so far, of those of these processes still alive."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return found


def pids_named(prefix):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith(prefix):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def machine_ticks():
    """(busy, total) clock ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds each process took between start() and stop(). A process that ended meanwhile
    (a PostgreSQL backend of someone else's connection) is not counted."""

    def __init__(self, servers):
        self.groups = {
            "daphne A": lambda: [servers[0].process.pid],
            "daphne B": lambda: [servers[1].process.pid],
            "PostgreSQL server (anyone's queries)": lambda: pids_named("postgres"),
            "Redis server (anyone's commands)": lambda: pids_named("redis-server"),
            "this client": lambda: [os.getpid()],
        }

    def start(self):
        self.started = time.perf_counter()
        self.before = {name: cpu_seconds(pids()) for name, pids in self.groups.items()}
        self.machine_before = machine_ticks()

    def stop(self):
        self.seconds = time.perf_counter() - self.started
        self.used = {}
        for name, pids in self.groups.items():
            now, before = cpu_seconds(pids()), self.before[name]
            self.used[name] = sum(seconds - before.get(pid, 0) for pid, seconds in now.items())
        busy, total = machine_ticks()
        self.machine_busy = (busy - self.machine_before[0]) / max(1, total - self.machine_before[1])


async def watch_backlog(redis_url, prefix, peaks, stop):
    """Every 0.1 s, how many messages wait in Redis for each daphne process; keeps the peaks.

    channels-redis keeps one sorted set per process for all its sockets, and a group_send skips
    (drops) a process whose set holds `capacity` messages already."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        while not stop.is_set():
            async for key in client.scan_iter(match=f"{prefix}specific.*", count=1000):
                peaks[key] = max(peaks.get(key, 0), await client.zcard(key))
            try:
                await asyncio.wait_for(stop.wait(), 0.1)
            except TimeoutError:
                pass
    finally:
        await client.aclose()


# 4. The run -----------------------------------------------------------------------------------


@dataclass
class Order:
    id: int
    table: int
    server: int
    sent: float
    answered: float
    stations: set
    lines: list


@dataclass
class Bump:
    line: int
    table: int
    server: int
    sent: float
    answered: float
    status: int
    phone: float | None = None
    boards_done: float | None = None  # every board showing the dish shows it cooking
    all_staff: float | None = None  # every staff screen received a message since `sent`


class KitchenRun:
    def __init__(self, ports, fixtures, session, prefix):
        self.ports = ports
        self.prefix = prefix
        self.backlog = {}  # Redis key of a process's messages -> the most seen waiting
        self.fixtures = fixtures
        self.session = session
        self.screens = screen_plan(fixtures)
        self.staff = [s for s in self.screens if s.kind != "phone"]
        self.phones = [s for s in self.screens if s.kind == "phone"]
        self.arrivals = Arrivals()
        self.arrived = asyncio.Event()
        self.last_message = 0.0
        self.orders, self.bumps, self.quiet_bumps, self.errors = [], [], [], []
        self.line_station = {}  # line id -> station slug, from the API's answers
        self.sockets, self.readers = [], []

    # Sockets

    async def open_all(self):
        gate = asyncio.Semaphore(10)

        async def one(screen):
            async with gate:
                await self.open(screen)

        await asyncio.gather(*(one(screen) for screen in self.screens))

    async def open(self, screen):
        from websockets.asyncio.client import connect

        port = self.ports[screen.server]
        headers = [] if screen.kind == "phone" else [("Cookie", f"sessionid={self.session}")]
        ws = await connect(
            f"ws://127.0.0.1:{port}{screen.path}",
            additional_headers=headers,
            origin=f"http://127.0.0.1:{port}",
            max_size=None,
            open_timeout=TIMEOUT,
        )
        self.sockets.append(ws)
        first = await asyncio.wait_for(ws.recv(), TIMEOUT)
        wanted = {"phone": 'id="tab"', "pass": 'id="pass-board"'}.get(screen.kind, 'id="board"')
        if wanted not in first:
            raise SystemExit(f"{screen.path}: the first message has no {wanted}: {first[:200]!r}")
        self.readers.append(asyncio.create_task(self.read(screen, ws)))

    async def read(self, screen, ws):
        from websockets.exceptions import ConnectionClosed

        try:
            async for message in ws:
                at = time.perf_counter()
                screen.times.append(at)
                screen.received_bytes += len(message)
                self.last_message = at
                parse(screen, message, at, self.arrivals)
                self.arrived.set()
        except ConnectionClosed as error:
            screen.dropped = str(error)
        else:
            screen.dropped = screen.dropped or "closed by the server"

    async def close_all(self):
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)

    # HTTP

    async def post(self, connection, path, body, token=None):
        headers = [("Content-Type", "application/json")]
        if token:
            headers.append(("Authorization", f"Bearer {token}"))
        sent = time.perf_counter()
        try:
            status, _headers, answer = await asyncio.wait_for(
                connection.request("POST", path, headers, json.dumps(body).encode()), TIMEOUT
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            await connection.close()  # the next request opens a new connection
            status, answer = 0, repr(error).encode()
        return sent, time.perf_counter(), status, answer

    async def bump(self, connection, line_id, table, server):
        sent, answered, status, answer = await self.post(
            connection,
            f"/api/v1/kitchen/lines/{line_id}/status",
            {"status": "cooking"},
            self.fixtures["device_token"],
        )
        if status != 200:
            self.errors.append(f"bump of line {line_id}: {status} {answer[:200]!r}")
        return Bump(line_id, table, server, sent, answered, status)

    # The rush

    async def table(self, n, token):
        rng = random.Random(SEED + n)
        connections = [HttpConnection(port) for port in self.ports]
        phone_server = n % 2
        try:
            for k in range(ORDERS_PER_TABLE):
                await asyncio.sleep(rng.uniform(*PAUSE_SECONDS))
                server = (n + k) % 2
                dishes = rng.sample(self.fixtures["dishes"], rng.randint(*DISHES_PER_ORDER))
                lines = [
                    {"dish": d["id"], "quantity": rng.choice((1, 1, 1, 2)), "options": d["options"]}
                    for d in dishes
                ]
                body = {"key": uuid.uuid4().hex, "guests": 2 + n % 5, "lines": lines}
                sent, answered, status, answer = await self.post(
                    connections[server], f"/api/v1/tables/{token}/orders", body
                )
                if status != 201:
                    self.errors.append(f"order at table {n}: {status} {answer[:200]!r}")
                    continue
                placed = json.loads(answer)
                for line in placed["lines"]:
                    self.line_station[line["id"]] = self.fixtures["dish_station"][line["dish"]]
                line_ids = [line["id"] for line in placed["lines"]]
                stations = {self.line_station[line_id] for line_id in line_ids}
                self.orders.append(
                    Order(placed["id"], n, server, sent, answered, stations, line_ids)
                )
                if k % BUMP_EVERY == BUMP_EVERY - 1:
                    first = placed["lines"][0]
                    station = self.fixtures["dish_station"][first["dish"]]
                    # The cook starts the dish once its ticket is on the station's screen.
                    await self.arrivals.wait(("station", station, placed["id"]))
                    other = 1 - phone_server
                    bump = await self.bump(connections[other], first["id"], n, other)
                    bump.phone = await self.arrivals.wait(("phone", first["id"]))
                    self.bumps.append(bump)
        finally:
            for connection in connections:
                await connection.close()

    def boards_for(self, stations):
        return [s for s in self.staff if s.kind == "all" or s.kind in stations]

    async def settle_rush(self):
        """Waits (bounded) for every ticket and cooking dish still due on the boards."""
        deadline = time.perf_counter() + TIMEOUT
        due = [("ticket", s.number, o.id) for o in self.orders for s in self.boards_for(o.stations)]
        for bump in self.bumps:
            stations = {self.line_station[bump.line]}
            due += [("cooking", s.number, bump.line) for s in self.boards_for(stations)]
        for key in due:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            await self.arrivals.wait(key, left)

    async def rush(self):
        tasks = [self.table(n, token) for n, token in enumerate(self.fixtures["tokens"])]
        self.cpu.start()
        await asyncio.gather(*tasks)
        self.cpu.stop()
        self.rush_seconds = self.cpu.seconds
        await self.settle_rush()
        # What arrived by now counts for the rush; the quiet bumps below resend some tickets.
        self.rush_at = dict(self.arrivals.at)

    # Quiet bumps, one at a time

    async def quiet(self):
        """No message for 0.3 s (at most 5 s of waiting)."""
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline and time.perf_counter() - self.last_message < 0.3:
            await asyncio.sleep(0.05)

    def first_after(self, screen, since):
        index = bisect.bisect_right(screen.times, since)
        return screen.times[index] if index < len(screen.times) else None

    async def all_staff_since(self, since):
        """When the last board received its first message after `since`, or None. Pass screens
        hear only of dishes becoming ready (or no longer ready), so a bump to cooking skips them."""
        deadline = since + TIMEOUT
        boards = [screen for screen in self.staff if screen.kind != "pass"]
        while True:
            firsts = [self.first_after(screen, since) for screen in boards]
            if None not in firsts:
                return max(firsts)
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except TimeoutError:
                pass

    async def quiet_bumps_run(self):
        firsts = {}  # the first dish of each table's first order (never bumped in the rush)
        for order in sorted(self.orders, key=lambda o: o.sent):
            firsts.setdefault(order.table, order)
        chosen = list(firsts.values())[:QUIET_BUMPS]
        connections = [HttpConnection(port) for port in self.ports]
        try:
            for order in chosen:
                await self.quiet()
                server = 1 - order.table % 2
                bump = await self.bump(connections[server], order.lines[0], order.table, server)
                bump.all_staff = await self.all_staff_since(bump.sent)
                bump.phone = await self.arrivals.wait(("phone", bump.line))
                boards = self.boards_for({self.line_station[bump.line]})
                seen = [await self.arrivals.wait(("cooking", s.number, bump.line)) for s in boards]
                bump.boards_done = None if None in seen else max(seen)
                self.quiet_bumps.append(bump)
        finally:
            for connection in connections:
                await connection.close()

    async def run(self):
        log(f"opening {len(self.staff)} staff screens and {len(self.phones)} phones")
        await self.open_all()
        stop = asyncio.Event()
        watcher = asyncio.create_task(
            watch_backlog(os.environ["REDIS_URL"], self.prefix, self.backlog, stop)
        )
        try:
            log(f"the rush: {TABLES} tables, {TABLES * ORDERS_PER_TABLE} orders")
            await self.rush()
            log(f"quiet: {QUIET_BUMPS} bumps one at a time")
            await self.quiet_bumps_run()
        finally:
            stop.set()
            await watcher
            await self.close_all()


# The burst: 12 tables order 10 times each at once through A; one kitchen screen on B --------


BURST_TABLES = 12
BURST_ORDERS = 10


async def burst(ports, fixtures, session):
    """Each order timed from its POST (to A) to its ticket on an all-stations board on B, and to
    its 201; also whether the 201 came before the ticket. Returns (latencies ms, lost, answered
    first, answers ms)."""
    from websockets.asyncio.client import connect

    arrivals = Arrivals()
    ws = await connect(
        f"ws://127.0.0.1:{ports[1]}/ws/kitchen/",
        additional_headers=[("Cookie", f"sessionid={session}")],
        origin=f"http://127.0.0.1:{ports[1]}",
        max_size=None,
        open_timeout=TIMEOUT,
    )

    async def read():
        async for message in ws:
            at = time.perf_counter()
            for found in ARTICLE_TICKET.finditer(message):
                arrivals.record(int(found.group(1)), at)

    await asyncio.wait_for(ws.recv(), TIMEOUT)  # the board
    reader = asyncio.create_task(read())
    sent, answered = {}, {}

    async def table(n, token):
        rng = random.Random(SEED + 1000 + n)
        connection = HttpConnection(ports[0])
        try:
            for _ in range(BURST_ORDERS):
                dish = rng.choice(fixtures["dishes"])
                line = {"dish": dish["id"], "quantity": 1, "options": dish["options"]}
                body = {"key": uuid.uuid4().hex, "guests": 2, "lines": [line]}
                start = time.perf_counter()
                status, _headers, answer = await asyncio.wait_for(
                    connection.request(
                        "POST",
                        f"/api/v1/tables/{token}/orders",
                        [("Content-Type", "application/json")],
                        json.dumps(body).encode(),
                    ),
                    TIMEOUT,
                )
                if status == 201:
                    order_id = json.loads(answer)["id"]
                    sent[order_id], answered[order_id] = start, time.perf_counter()
        finally:
            await connection.close()

    try:
        tokens = fixtures["tokens"][:BURST_TABLES]
        await asyncio.gather(*(table(n, token) for n, token in enumerate(tokens)))
        latencies, lost, first = [], 0, 0
        for order_id, start in sent.items():
            at = await arrivals.wait(order_id)
            if at is None:
                lost += 1
                continue
            latencies.append((at - start) * 1000)
            first += answered[order_id] <= at
        answers = [(answered[order_id] - start) * 1000 for order_id, start in sent.items()]
        return latencies, lost + BURST_TABLES * BURST_ORDERS - len(sent), first, answers
    finally:
        reader.cancel()
        await ws.close()


def measure_kitchen(servers, fixtures, session):
    ports = [server.port for server in servers]
    run = KitchenRun(ports, fixtures, session, os.environ["CHANNEL_PREFIX"])
    run.cpu = CpuMeter(servers)
    from channels.layers import get_channel_layer

    run.capacity = get_channel_layer().capacity
    try:
        asyncio.run(asyncio.wait_for(run.run(), RUN_LIMIT))
    except TimeoutError:
        raise SystemExit(f"the socket work took more than {RUN_LIMIT} s; stopped") from None
    return run


# 5. Queries to render a board -----------------------------------------------------------------


def board_queries(stations):
    """(board, open tickets it shows, queries, bytes, ms) for each of BOARD_TICKETS."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from menu.models import Station
    from orders import selectors
    from orders.models import OrderLine

    def render(station):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            context = selectors.board_view(station)
            html = render_to_string("orders/kitchen.html#board", context)
            ms = (time.perf_counter() - started) * 1000
        return len(context["orders"]), len(captured), len(html.encode()), ms

    station = Station.objects.get(slug=stations[0])
    open_ids = [order.pk for order in selectors.open_tickets()]
    if len(open_ids) < max(BOARD_TICKETS):
        raise SystemExit(f"only {len(open_ids)} open tickets after the rush")
    rows = []
    with translation.override(settings.LANGUAGE_CODE):
        render(None)  # compiles the templates once
        for wanted in BOARD_TICKETS:
            # Close every other ticket for the count, then roll the change back.
            with transaction.atomic():
                OrderLine.objects.exclude(order_id__in=open_ids[:wanted]).filter(
                    status__in=OrderLine.KITCHEN_OPEN
                ).update(status=OrderLine.Status.SERVED)
                rows.append(("all stations", wanted, *render(None)))
                rows.append((f"station {station.slug}", wanted, *render(station)))
                transaction.set_rollback(True)
    connection.close()
    return rows


# 6. The report --------------------------------------------------------------------------------


def ms(values):
    values = sorted(values)
    if not values:
        return "no samples"
    return (
        f"p50 {percentile(values, 0.5):7.1f}   p99 {percentile(values, 0.99):7.1f}   "
        f"max {values[-1]:7.1f} ms   n={len(values)}"
    )


def figures(run):
    """The latencies in milliseconds, and what never arrived."""
    a, f = run.rush_at, {}
    f["post"] = [(o.answered - o.sent) * 1000 for o in run.orders]
    station_same, station_other, missing_tickets, fanout = [], [], 0, []
    for order in run.orders:
        for screen in run.boards_for(order.stations):
            at = a.get(("ticket", screen.number, order.id))
            if at is None:
                missing_tickets += 1
            elif screen.kind != "all":
                late = (at - order.sent) * 1000
                (station_same if screen.server == order.server else station_other).append(late)
        times = [a.get(("ticket", s.number, order.id)) for s in run.boards_for(order.stations)]
        if None not in times:
            fanout.append((max(times) - order.sent) * 1000)
    f["station_same"], f["station_other"] = station_same, station_other
    f["station"] = station_same + station_other
    f["fanout"], f["missing_tickets"] = fanout, missing_tickets
    f["due_tickets"] = sum(len(run.boards_for(o.stations)) for o in run.orders)
    # Late or lost? A ticket still missing when the run ends never came (the quiet bumps resend
    # the tickets of their orders, so those orders are left out of this count).
    quiet_lines = {bump.line for bump in run.quiet_bumps}
    resent = {order.id for order in run.orders if order.lines[0] in quiet_lines}
    f["lost_tickets"] = sum(
        1
        for order in run.orders
        if order.id not in resent
        for screen in run.boards_for(order.stations)
        if ("ticket", screen.number, order.id) not in run.arrivals.at
    )
    early = 0
    for order in run.orders:
        seen = [a.get(("station", slug, order.id)) for slug in order.stations]
        early += any(at is not None and at < order.answered for at in seen)
    f["before_201"] = early / max(1, len(run.orders))
    f["fanout_screens"] = sorted({len(run.boards_for(o.stations)) for o in run.orders})
    f["bump_post"] = [(b.answered - b.sent) * 1000 for b in run.bumps]
    f["bump_phone"] = [(b.phone - b.sent) * 1000 for b in run.bumps if b.phone]
    f["missing_phone"] = sum(1 for b in run.bumps if b.phone is None)
    boards_done = []
    for bump in run.bumps:
        boards = run.boards_for({run.line_station[bump.line]})
        times = [a.get(("cooking", s.number, bump.line)) for s in boards]
        if None not in times:
            boards_done.append((max(times) - bump.sent) * 1000)
    f["bump_boards"] = boards_done
    q = run.quiet_bumps
    f["quiet_post"] = [(b.answered - b.sent) * 1000 for b in q]
    f["quiet_all"] = [(b.all_staff - b.sent) * 1000 for b in q if b.all_staff]
    f["quiet_boards"] = [(b.boards_done - b.sent) * 1000 for b in q if b.boards_done]
    f["quiet_phone"] = [(b.phone - b.sent) * 1000 for b in q if b.phone]
    f["quiet_missing"] = sum(1 for b in q if not (b.all_staff and b.phone and b.boards_done))
    return f


def server_log_problems(servers):
    problems = 0
    for server in servers:
        text = server.log_path.read_text(errors="replace")
        problems += sum(1 for line in text.splitlines() if "Traceback" in line or "ERROR" in line)
    return problems


def code_version():
    """The commit, and whether the working tree differs from it (read-only git)."""
    import subprocess

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        return "?"
    return f"commit {commit or '?'}" + (" with uncommitted changes" if changed else "")


def report(info, fixtures, run, queries, servers):
    f = figures(run)
    cpu = run.cpu
    lines = []
    out = lines.append

    def row(label, values):
        out(f"   {label:<50} {ms(values)}")

    out(f"Diancan kitchen benchmark, {info['date']}")
    out(
        f"  machine    {info['cpu']}, {info['memory']} RAM, "
        f"load average {' '.join(info['load'])} at start"
    )
    out(
        f"  software   {info['software']}, channels-redis {version('channels-redis')}, "
        f"redis-py {version('redis')}, psycopg {version('psycopg')}, "
        f"websockets {version('websockets')} (client)"
    )
    out(f"  code       {code_version()}")
    out(f"  database   {info['database']}")
    out(f"  channels   {info['layer']}")
    out("  servers    two daphne processes (A, B), DEBUG off, 127.0.0.1, one channel prefix")
    station_list = "/".join(fixtures["stations"])
    out(
        f"  screens    {len(run.staff)} staff screens as the demo kitchen user, half on A and "
        f"half on B: {ALL_BOARDS} all-stations boards, {BOARDS_PER_STATION} boards of each "
        f"station ({station_list}), {PASS_SCREENS} pass screens"
    )
    out(
        f"  phones     {len(run.phones)} diner phones, one per table, half on A and half on B; "
        f"the demo has {fixtures['demo_tables']} tables, {fixtures['made_tables']} more were "
        f"made for the benchmark so that {TABLES} tables order"
    )
    out(
        "  client     this process: one asyncio loop for every socket and table "
        "(it shares the machine with the servers)"
    )
    out("")
    dishes = sum(len(o.lines) for o in run.orders)
    out(
        f"a. The rush: {TABLES} tables ordering at once, {len(run.orders)} orders with {dishes} "
        f"dishes via POST /api/v1/tables/<token>/orders, A and B by turns, "
        f"{PAUSE_SECONDS[0]:.0f}-{PAUSE_SECONDS[1]:.0f} s before each order of a table: "
        f"{run.rush_seconds:.0f} s, {len(run.orders) / run.rush_seconds:.1f} orders/s"
    )
    row("POST sent -> 201 answered", f["post"])
    row("POST sent -> ticket on its station's screens", f["station"])
    row("  screens on the process that took the POST", f["station_same"])
    row("  screens on the other process", f["station_other"])
    row("fan-out: POST sent -> ticket on all its boards", f["fanout"])
    low, high = f["fanout_screens"][0], f["fanout_screens"][-1]
    out(
        f"     ({low}-{high} boards an order: the {ALL_BOARDS} all-stations boards and the "
        f"{BOARDS_PER_STATION} of each station concerned)"
    )
    out(
        f"   {f['before_201']:.0%} of the orders were on a station screen before their POST was "
        "answered (events wait until the answer has gone out: anything above 0% is a bug)"
    )
    out(
        f"   bump: the first dish of every {BUMP_EVERY}rd order moved to cooking by a device, "
        "on the process the table's phone is not on"
    )
    row("  bump POST sent -> 200 answered", f["bump_post"])
    row("  bump POST sent -> the phone shows it cooking", f["bump_phone"])
    row("  bump POST sent -> every board shows it cooking", f["bump_boards"])
    out(
        f"   never arrived within {TIMEOUT} s: {f['missing_tickets']} of "
        f"{f['due_tickets']:,} tickets due on boards ({f['lost_tickets']} still missing when "
        f"the run ended); phones that missed a cooking dish: {f['missing_phone']}; "
        f"error answers: {len(run.errors)}" + (f" (first: {run.errors[0]})" if run.errors else "")
    )
    peak = max(run.backlog.values(), default=0)
    out(
        f"   Redis: at most {peak} messages waited for one daphne process (channels-redis "
        f"capacity {run.capacity}: a group_send silently drops its message for a process "
        "that has that many waiting)"
    )
    out(
        f"   CPU during the rush ({cpu.seconds:.0f} s; the whole machine was "
        f"{cpu.machine_busy:.0%} busy, other users included):"
    )
    for name, used in cpu.used.items():
        out(f"     {name:<38} {used:6.1f} s  ({used / cpu.seconds:4.0%} of one core)")
    daphne = cpu.used["daphne A"] + cpu.used["daphne B"]
    out(
        f"     daphne CPU per order, A and B together, bumps and pushes included: "
        f"{daphne / max(1, len(run.orders)) * 1000:.0f} ms"
    )
    out("")
    out(f"b. Quiet: {len(run.quiet_bumps)} bumps one at a time, each a dish moved to cooking")
    row("bump POST sent -> 200 answered", f["quiet_post"])
    boards = sum(1 for screen in run.staff if screen.kind != "pass")
    row(f"bump POST sent -> ALL {boards} kitchen boards have it", f["quiet_all"])
    row("bump POST sent -> every board shows it cooking", f["quiet_boards"])
    row("bump POST sent -> the phone shows it cooking", f["quiet_phone"])
    if f["quiet_missing"]:
        out(f"   {f['quiet_missing']} bumps did not reach every screen within {TIMEOUT} s")
    staff_bytes = sum(s.received_bytes for s in run.staff)
    staff_messages = sum(len(s.times) for s in run.staff)
    dropped = [s for s in run.screens if s.dropped]
    out(
        f"   in all, the staff screens received {staff_messages:,} messages "
        f"({staff_bytes / 1e6:.1f} MB); sockets dropped: {len(dropped)}"
        + (f" (first: {dropped[0].path}: {dropped[0].dropped})" if dropped else "")
        + f"; server log lines with Traceback or ERROR: {server_log_problems(servers)}"
    )
    out("")
    out("c. Queries to render a board (in-process: board_view() + orders/kitchen.html#board)")
    out("   board            open tickets   shown   queries      bytes   ms")
    for label, wanted, shown, count, size, took in queries:
        out(f"   {label:<16} {wanted:>12} {shown:>7} {count:>9} {size:>10,} {took:4.0f}")
    counts = {entry[3] for entry in queries}
    out(
        "   the count does not grow with the number of tickets"
        if len(counts) == 1
        else "   THE COUNT GROWS WITH THE NUMBER OF TICKETS"
    )
    return "\n".join(lines)


def main():
    only = os.environ.get("BENCH_ONLY", "")
    if only not in ("", "burst"):
        raise SystemExit(f"BENCH_ONLY={only!r}: only 'burst' is known")
    only_burst = only == "burst"
    require_stack()
    OUT.mkdir(parents=True, exist_ok=True)
    ports = [free_port(), free_port()]
    env_a = bench_environment(ports[0], DATABASE)
    env_b = {**env_a, "PORT": str(ports[1]), "PUBLIC_URL": f"http://127.0.0.1:{ports[1]}"}
    prepare_database(env_a)
    setup_django(env_a)
    fixtures = kitchen_fixtures()
    info = machine()

    servers = []
    try:
        for name, env, port in (("a", env_a, ports[0]), ("b", env_b, ports[1])):
            servers.append(Daphne(env, port, log_path=OUT / f"kitchen-daphne-{name}.log"))
        for server in servers:
            server.wait_until_ready()
        session = kitchen_session(ports[0])
        log(f"the burst: {BURST_TABLES} tables x {BURST_ORDERS} orders at once through A")
        burst_cpu = CpuMeter(servers)
        burst_cpu.start()
        run_burst = asyncio.run(burst(ports, fixtures, session))
        burst_cpu.stop()
        if not only_burst:
            run = measure_kitchen(servers, fixtures, session)
    finally:
        for server in servers:
            server.stop()
        log("daphne A and B stopped")

    if not only_burst:
        queries = board_queries(fixtures["stations"])
        print(report(info, fixtures, run, queries, servers))
        print()
    latencies, lost, first, answers = run_burst
    print(
        f"The burst (before the rush): {BURST_TABLES} tables order {BURST_ORDERS} times each at"
        " once, back to back, through A; one all-stations board on B"
    )
    print(f"   POST sent -> ticket on the board on B              {ms(latencies)}")
    print(f"   POST sent -> 201 from A                            {ms(answers)}")
    print(
        f"   never arrived: {lost} of {BURST_TABLES * BURST_ORDERS}; 201 before the ticket: {first}"
    )
    orders = BURST_TABLES * BURST_ORDERS
    a, b = burst_cpu.used["daphne A"], burst_cpu.used["daphne B"]
    print(
        f"   CPU: daphne A {a:.2f} s ({a / orders * 1000:.1f} ms an order), daphne B {b:.2f} s"
        f" ({b / orders * 1000:.1f} ms a ticket), in {burst_cpu.seconds:.1f} s; the whole"
        f" machine {burst_cpu.machine_busy:.0%} busy"
    )


if __name__ == "__main__":
    main()
