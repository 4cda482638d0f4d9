"""Benchmark of Diancan's spine: the diner's menu page, its database queries, and how fast an
order reaches the kitchen screen. It prints figures; it is not a test and asserts nothing.

Run it with `make bench` (or `.venv/bin/python bench/bench_spine.py`): SQLite, the in-memory
channel layer and a local-memory cache. For the production stack give PostgreSQL and Redis:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/7 \
        make bench

What it does, all on loopback, bounded in time, and stopping by itself:

1. Builds its own database: with DATABASE_URL, a database `diancan_bench` on that server (dropped
   and created anew); otherwise bench/out/bench.sqlite3. Then migrate, load_demo and
   collectstatic, with DEBUG off, a random SECRET_KEY and ALLOWED_HOSTS=127.0.0.1,localhost, as
   in production. REDIS_URL passes through; the channel layer and cache get a prefix of their own.
2. Starts one daphne process on a free port, and stops it at the end, also on errors.
3. Measures, in the same run so that ratios hold on a noisy machine:
   a. requests/s and p50/p99 latency of the menu page `/t/<token>/` and of `/ping` (the trivial
      Django view, measured before and after the menu) at 64 keep-alive connections for 10 s
      after a 2 s warm-up, with `wrk` when it is on PATH (`apt-get install -y wrk`), else with
      an asyncio client in this process (which competes for the CPU). Every menu request
      carries the diner cookie of one first visit: a returning phone; a row more for a phone
      at an open tab (another table mid-meal: a round of three dishes and a cart line);
   b. database queries per menu page, in this process through Django's test client, with the
      cached menu warm and cold (menu version bumped), for the demo menu and again with twice
      as many dishes;
   c. order → kitchen screen latency: a kitchen user's WebSocket on /ws/kitchen/, then 200
      orders posted to /api/v1/tables/<token>/orders, each timed from just before the POST
      to the socket message that carries its ticket.
4. Prints the machine and software, then the figures as plain text that a README can quote.

Progress goes to stderr, the report to stdout. Files go to bench/out/ (git-ignored).
"""

import asyncio
import gzip
import json
import re
import shutil
import subprocess
import time
import uuid

from common import (
    OUT,
    Daphne,
    HttpConnection,
    bench_environment,
    cookies_from,
    free_port,
    http_get,
    kitchen_session,
    log,
    machine,
    percentile,
    plain_dishes,
    prepare_database,
    setup_django,
)

CONNECTIONS = 64
WARMUP_SECONDS = 2
DURATION_SECONDS = 10
ORDERS = 200
SOCKET_TIMEOUT = 10  # seconds to wait for one order's ticket on the kitchen socket


# 1. The environment and the database ----------------------------------------------------------


def demo_fixtures():
    """The demo tables' tokens and a dish anyone can order plain (no stock limit, no choices)."""
    from django.db import connections

    from menu.models import Dish
    from orders.models import Table

    tokens = list(
        Table.objects.filter(active=True)
        .order_by("position", "code")
        .values_list("token", flat=True)
    )
    dish = next(iter(plain_dishes(1)), None)
    if not tokens or dish is None:
        raise SystemExit("load_demo made no tables or no dish without required options")
    fixtures = {
        "tokens": tokens,
        "dish": dish.pk,
        "dish_name": dish.name,
        "dishes": Dish.objects.count(),
    }
    connections.close_all()
    return fixtures


# 3a. Requests per second ----------------------------------------------------------------------


def load_generator():
    wrk = shutil.which("wrk")
    if wrk:
        result = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
        version = (result.stdout + result.stderr).split("\n")[0].split(" [")[0].strip() or "wrk"
        return {"name": "wrk", "path": wrk, "label": f"{version}, 1 thread"}
    return {
        "name": "python",
        "label": "asyncio client in the benchmark process (competes for the CPU)",
    }


def run_load(generator, port, path, headers, seconds):
    if generator["name"] == "wrk":
        return run_wrk(generator["path"], port, path, headers, seconds)
    return asyncio.run(python_load(port, path, headers, seconds))


def wrk_milliseconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(wrk, port, path, headers, seconds):
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers:
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    rate = float(re.search(r"Requests/sec:\s*([\d.]+)", output).group(1))
    p50 = wrk_milliseconds(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))
    p99 = wrk_milliseconds(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output):
        errors += int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in found.groups())
    return {"rate": rate, "p50": p50, "p99": p99, "requests": requests, "errors": errors}


async def python_load(port, path, headers, seconds):
    """CONNECTIONS keep-alive connections sending GETs back to back until the time is up."""
    latencies, errors = [], 0
    deadline = time.perf_counter() + seconds

    async def one_connection():
        nonlocal errors
        connection = HttpConnection(port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    status, _headers, _body = await asyncio.wait_for(
                        connection.request("GET", path, headers), 10
                    )
                except (TimeoutError, OSError, asyncio.IncompleteReadError):
                    errors += 1
                    await connection.close()
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if status >= 400:
                    errors += 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "requests": len(latencies),
        "errors": errors,
    }


def measure_http(port, fixtures, generator):
    from orders.models import Diner

    menu_path = f"/t/{fixtures['tokens'][0]}/"
    # A first visit makes this phone's diner row and cookie; every request after is the same phone.
    status, headers, _body = http_get(port, menu_path)
    if status != 200:
        raise SystemExit(f"GET {menu_path} answered {status}")
    diner_cookie = cookies_from(headers).get("diancan_diner")
    if not diner_cookie:
        raise SystemExit("the menu page set no diancan_diner cookie")
    cookie = ("Cookie", f"diancan_diner={diner_cookie}")
    _s, _h, raw = http_get(port, menu_path, [cookie])
    _s, gzip_headers, zipped = http_get(port, menu_path, [cookie, ("Accept-Encoding", "gzip")])
    if dict(gzip_headers).get("content-encoding") != "gzip":
        zipped = gzip.compress(raw)  # not compressed by the server: say what gzip would make

    tab_path, tab_cookie, tab_bytes = open_tab_phone(port, fixtures)

    diners_before = Diner.objects.count()
    runs = [
        ("/ping  (trivial Django view)", "/ping", []),
        ("menu page, gzip (as phones ask)", menu_path, [cookie, ("Accept-Encoding", "gzip")]),
        ("menu page, uncompressed", menu_path, [cookie]),
        ("menu page at an open tab, gzip", tab_path, [tab_cookie, ("Accept-Encoding", "gzip")]),
        # /ping again: when the two /ping rows differ much, the machine was busy meanwhile.
        ("/ping  again, after the menu rows", "/ping", []),
    ]
    results = []
    for label, path, headers in runs:
        log(f"load: {label}: {WARMUP_SECONDS} s warm-up, {DURATION_SECONDS} s measured")
        run_load(generator, port, path, headers, WARMUP_SECONDS)
        results.append((label, run_load(generator, port, path, headers, DURATION_SECONDS)))
    diners_made = Diner.objects.count() - diners_before
    return {
        "runs": results,
        "raw_bytes": len(raw),
        "gzip_bytes": len(zipped),
        "server_gzip": dict(gzip_headers).get("content-encoding") == "gzip",
        "diners_made": diners_made,
        "menu_path": menu_path,
        "tab_bytes": tab_bytes,
    }


def open_tab_phone(port, fixtures):
    """A phone at a table mid-meal (the second table): its visit opened (开台), the phone adds a
    dish to the cart over HTTP (which numbers it at the tab), a round of three dishes is ordered,
    then it adds one more to the cart. Returns its page's path, its cookie and the page's size."""
    from menu.models import Dish
    from orders import services
    from orders.models import Table

    token = fixtures["tokens"][1]
    path = f"/t/{token}/"
    table = Table.objects.get(token=token)
    tab = services.tab_for_table(table=table)
    _status, headers, _body = http_get(port, path)
    cookie = ("Cookie", f"diancan_diner={cookies_from(headers)['diancan_diner']}")
    form = [("Content-Type", "application/x-www-form-urlencoded"), ("HX-Request", "true"), cookie]

    def add_to_cart(dish):
        body = f"dish={dish}&tab={tab.pk}".encode()
        status, _h, answer = asyncio.run(post(port, f"{path}cart/", form, body))
        if status != 200:
            raise SystemExit(f"POST {path}cart/ answered {status}: {answer[:200]!r}")

    add_to_cart(fixtures["dish"])
    dishes = [dish.pk for dish in plain_dishes(3)] or [fixtures["dish"]]
    services.order_submit(
        tab=tab,
        key=f"bench-{uuid.uuid4().hex}",
        guests=2,
        lines=[services.LineRequest(dish=pk, quantity=n + 1) for n, pk in enumerate(dishes)],
    )
    add_to_cart(fixtures["dish"])
    _s, _h, raw = http_get(port, path, [cookie])
    names = Dish.objects.filter(pk__in=dishes).values_list("name", flat=True)
    if not all(name in raw.decode() for name in names):
        raise SystemExit("the open tab's page does not show its round")
    return path, cookie, len(raw)


async def post(port, path, headers, body):
    connection = HttpConnection(port)
    try:
        return await asyncio.wait_for(connection.request("POST", path, headers, body), 10)
    finally:
        await connection.close()


# 3b. Queries per menu page --------------------------------------------------------------------


def menu_size():
    from menu.models import Dish, Option

    return Dish.objects.filter(active=True).count(), Option.objects.count()


def count_menu_queries(token):
    """Queries of one menu page for a returning phone: (warm, cold, SQL of the cold one).

    Cold means the cached menu is missed: the menu version is bumped first, as any menu edit
    does. (cache.clear() would flush the whole Redis database, which the server shares.)
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from menu.models import MenuState

    client = Client(HTTP_HOST="127.0.0.1")
    path = f"/t/{token}/"
    client.get(path)  # the phone's first visit: its diner row and cookie

    def queries(cold):
        if cold:
            MenuState.bump()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"in-process GET {path} answered {response.status_code}")
        return [query["sql"] for query in captured.captured_queries]

    cold = queries(cold=True)
    warm = queries(cold=False)
    return len(warm), len(cold), cold


def double_the_menu():
    """Copies every dish once more, with its tags, option groups and options."""
    from django.db import transaction

    from menu.models import Dish, MenuState, Option

    with transaction.atomic():
        originals = list(
            Dish.objects.prefetch_related("tags", "option_groups__options").order_by("pk")
        )
        for dish in originals:
            tags = list(dish.tags.all())
            groups = [(group, list(group.options.all())) for group in dish.option_groups.all()]
            copy = Dish.objects.get(pk=dish.pk)
            copy.pk = None
            copy.name = f"{dish.name} 2"[:60]
            copy.save()
            copy.tags.set(tags)
            for group, options in groups:
                group.pk = None
                group.dish = copy
                group.save()
                Option.objects.bulk_create(
                    Option(
                        group=group,
                        name=option.name,
                        name_en=option.name_en,
                        price=option.price,
                        active=option.active,
                        position=option.position,
                    )
                    for option in options
                )
        MenuState.bump()


def measure_queries(fixtures):
    token = fixtures["tokens"][0]
    rows = []
    dishes, options = menu_size()
    warm, cold, cold_sql = count_menu_queries(token)
    rows.append(("demo menu", dishes, options, warm, cold))
    log("doubling the menu")
    double_the_menu()
    dishes, options = menu_size()
    warm, cold, cold_sql_doubled = count_menu_queries(token)
    rows.append(("menu doubled", dishes, options, warm, cold))
    (OUT / "menu-queries.sql").write_text(
        "-- demo menu, cold cache\n"
        + ";\n".join(cold_sql)
        + ";\n\n-- menu doubled, cold cache\n"
        + ";\n".join(cold_sql_doubled)
        + ";\n"
    )
    return rows


# 3c. Order → kitchen socket -------------------------------------------------------------------


async def order_to_kitchen(port, fixtures, session):
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/kitchen/"
    headers = [("Cookie", f"sessionid={session}")]
    origin = f"http://127.0.0.1:{port}"
    received = []  # (perf_counter, text) of every socket message, in arrival order
    arrived = asyncio.Event()

    async def read(socket_):
        async for message in socket_:
            received.append((time.perf_counter(), message))
            arrived.set()

    async def wait_for_ticket(order_id, since):
        marker = f'id="ticket-{order_id}"'
        deadline = time.perf_counter() + SOCKET_TIMEOUT
        while True:
            for at, message in received[since:]:
                if marker in message:
                    return at
            arrived.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise SystemExit(f"order {order_id} never reached the kitchen socket")
            try:
                await asyncio.wait_for(arrived.wait(), left)
            except TimeoutError:
                pass

    latencies, post_times, answered_late = [], [], 0
    api = HttpConnection(port)
    async with connect(
        url, additional_headers=headers, origin=origin, max_size=None, open_timeout=10
    ) as ws:
        board = await asyncio.wait_for(ws.recv(), 10)
        if 'id="tickets"' not in board:
            log("warning: the first kitchen message does not look like the board")
        reader = asyncio.create_task(read(ws))
        try:
            for n in range(ORDERS):
                token = fixtures["tokens"][n % len(fixtures["tokens"])]
                line = {"dish": fixtures["dish"], "quantity": 1, "options": [], "note": ""}
                order = {"key": uuid.uuid4().hex, "guests": 2, "lines": [line]}
                body = json.dumps(order).encode()
                since = len(received)
                started = time.perf_counter()
                status, _headers, answer = await asyncio.wait_for(
                    api.request(
                        "POST",
                        f"/api/v1/tables/{token}/orders",
                        [("Content-Type", "application/json")],
                        body,
                    ),
                    SOCKET_TIMEOUT,
                )
                answered = time.perf_counter()
                if status != 201:
                    raise SystemExit(f"order POST answered {status}: {answer[:300]!r}")
                order_id = json.loads(answer)["id"]
                at = await wait_for_ticket(order_id, since)
                latencies.append((at - started) * 1000)
                post_times.append((answered - started) * 1000)
                answered_late += answered > at
        finally:
            reader.cancel()
            await api.close()

    # A kitchen screen that (re)connects now gets the whole board at once.
    started = time.perf_counter()
    async with connect(
        url, additional_headers=headers, origin=origin, max_size=None, open_timeout=10
    ) as ws:
        board = await asyncio.wait_for(ws.recv(), 30)
    reconnect_ms = (time.perf_counter() - started) * 1000
    return {
        "latencies": sorted(latencies),
        "posts": sorted(post_times),
        "answered_late": answered_late,
        "board_tickets": len(re.findall(r'id="ticket-\d+"', board)),
        "board_bytes": len(board.encode()),
        "reconnect_ms": reconnect_ms,
    }


def measure_orders(port, fixtures):
    session = kitchen_session(port)
    log(f"{ORDERS} orders through the API, each awaited on the kitchen socket")
    from websockets.exceptions import WebSocketException

    try:
        return asyncio.run(order_to_kitchen(port, fixtures, session))
    except WebSocketException as error:
        raise SystemExit(f"the kitchen socket failed ({error}); see {OUT / 'daphne.log'}") from None


# 4. The machine and the report ----------------------------------------------------------------


def report(info, generator, http, queries, orders, fixtures):
    lines = []
    out = lines.append
    out(f"Diancan spine benchmark, {info['date']}")
    out(
        f"  machine    {info['cpu']}, {info['memory']} RAM, load average {' '.join(info['load'])} at start"
    )
    out(f"  software   {info['software']}")
    out(f"  database   {info['database']}")
    out(f"  channels   {info['layer']}")
    out("  server     one daphne process, DEBUG off, 127.0.0.1")
    out(
        f"  load       {generator['label']}, {CONNECTIONS} keep-alive connections, "
        f"{WARMUP_SECONDS} s warm-up then {DURATION_SECONDS} s per row"
    )
    out("")
    out(f"a. HTTP at {CONNECTIONS} connections                 req/s   p50 ms   p99 ms   errors")
    for label, run in http["runs"]:
        out(
            f"   {label:<38} {run['rate']:>7.0f} {run['p50']:>8.1f} {run['p99']:>8.1f} {run['errors']:>8}"
        )
    pings = [run["rate"] for label, run in http["runs"] if label.startswith("/ping")]
    ping = sum(pings) / len(pings)
    for label, run in http["runs"]:
        if not label.startswith("/ping"):
            out(f"   ratio {label} / ping (mean of both): {run['rate'] / ping:.2f}")
    compressed = (
        "by the server" if http["server_gzip"] else "NOT by the server; gzip of the raw page"
    )
    out(
        f"   menu page: {http['raw_bytes']:,} bytes, {http['gzip_bytes']:,} gzipped ({compressed}); "
        f"{fixtures['dishes']} dishes"
    )
    out(
        "   every menu request sends the diancan_diner cookie of one first visit (a returning "
        f"phone); diner rows made during the load: {http['diners_made']}; the table's tab is "
        "empty (the orders of c come later)"
    )
    out(
        "   at an open tab: another table's phone, mid-meal: its visit, a round of three dishes, "
        f"a cart line ({http['tab_bytes']:,} bytes uncompressed)"
    )
    out("")
    out("b. Database queries per menu page (in-process test client, a returning phone)")
    out("                      dishes  options   warm cache   cold cache")
    for label, dishes, options, warm, cold in queries:
        out(f"   {label:<16} {dishes:>7} {options:>8} {warm:>12} {cold:>12}")
    if queries[1][3:] == queries[0][3:]:
        out("   the count does not grow with the number of dishes")
    else:
        out("   THE COUNT GROWS WITH THE NUMBER OF DISHES")
    out("   cold: the cached menu missed (menu version bumped, as by any menu edit)")
    out("   the SQL of the cold pages: bench/out/menu-queries.sql")
    out("")
    lat, posts = orders["latencies"], orders["posts"]
    out(
        f"c. Order -> kitchen socket, {len(lat)} orders via POST /api/v1/tables/<token>/orders, "
        f"{len(fixtures['tokens'])} tables, 1 line of {fixtures['dish_name']}"
    )
    out(
        f"   POST sent -> ticket on the socket   p50 {percentile(lat, 0.5):6.1f} ms   "
        f"p99 {percentile(lat, 0.99):6.1f} ms   max {lat[-1]:6.1f} ms"
    )
    out(
        f"   POST sent -> 201 answered           p50 {percentile(posts, 0.5):6.1f} ms   "
        f"p99 {percentile(posts, 0.99):6.1f} ms   max {posts[-1]:6.1f} ms"
    )
    out(f"   POST answered after its ticket had arrived: {orders['answered_late']} of {len(lat)}")
    out(
        f"   board at the end: {orders['board_tickets']} open tickets ({orders['board_bytes']:,} bytes); "
        f"a kitchen screen reconnecting gets it in {orders['reconnect_ms']:.0f} ms"
    )
    return "\n".join(lines)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = bench_environment(port)
    prepare_database(env)
    setup_django(env)
    fixtures = demo_fixtures()
    info = machine()
    generator = load_generator()

    server = Daphne(env, port)
    try:
        server.wait_until_ready()
        http = measure_http(port, fixtures, generator)
        orders = measure_orders(port, fixtures)
    finally:
        server.stop()
        log("daphne stopped")

    queries = measure_queries(fixtures)
    from django.db import connections

    connections.close_all()
    print(report(info, generator, http, queries, orders, fixtures))


if __name__ == "__main__":
    main()
