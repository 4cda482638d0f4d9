"""Benchmark of payments: payments per second through API v1 on PostgreSQL with 32 concurrent
clients on distinct tables, and the sandbox gateway's notify handling p50/p99. It prints
figures; it is not a test and asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/bench_payments.py

What it does, on loopback only, bounded in time, stopping by itself:

1. Creates the database `diancan_bench_pay` beside DATABASE_URL's (dropped at the end), runs
   migrate, load_demo and collectstatic with DEBUG off, a random SECRET_KEY, the sandbox gateway
   on with a random secret and its own delivery off (this script plays the gateway).
2. Seats 32 × 8 tables, each with one large order, and issues a cashier device token.
3. Starts one daphne process (REDIS_URL passes through: channels-redis and the Redis cache).
4. Payments/s: 32 clients, each with its own 8 tables (no two clients share one) and its own
   keep-alive connection, POST `/api/v1/tabs/<tab>/payments` (cash, ¥1.00, the version of the
   previous answer, a new key) back to back, table after table, for 10 s after a 2 s warm-up. Every payment pushes to the cashier's groups and
   the table's phones, as in production.
5. Notify: 32 clients each start 20 QR payments of ¥1.00 through `/api/v1/tables/<token>/
   payments`; the script approves them at the sandbox gateway and POSTs each signed
   notification to `/api/v1/payments/notify/sandbox` (32 at a time): first deliveries, then
   the same notifications again (replays), each timed from the POST to the answer.

Progress goes to stderr, the report to stdout.
"""

import asyncio
import json
import os
import platform
import secrets
import string
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit, urlunsplit

from common import (
    OUT,
    SUFFIX,
    Daphne,
    free_port,
    load_demo,
    log,
    manage,
    percentile,
    plain_dishes,
    setup_django,
    staff_session,
)

DATABASE = "diancan_bench_pay" + SUFFIX
CLIENTS = 32
CARD_CLIENTS = 12  # issue 7's target: card payments, 12 clients on 12 tabs, a cashier screen open
WARMUP_SECONDS = 2
DURATION_SECONDS = 10
QR_PER_CLIENT = 20
# Each client pays in turn at its own few tables, so that a tab collects a realistic handful of
# payments rather than hundreds (each push renders the tab's whole bill).
TABLES_PER_CLIENT = 8


ADMIN_DATABASE_URL = os.environ.get("DATABASE_URL", "")  # before this script points it elsewhere


def admin_url():
    parts = urlsplit(ADMIN_DATABASE_URL)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("Set DATABASE_URL=postgres://… : this benchmark measures PostgreSQL.")
    return parts, urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def create_database():
    import psycopg

    parts, admin = admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    return urlunsplit((parts.scheme, parts.netloc, f"/{DATABASE}", parts.query, ""))


def drop_database():
    import psycopg

    _parts, admin = admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def environment(port, database_url):
    alphabet = string.ascii_letters + string.digits
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "restaurant.settings",
            "DEBUG": "false",
            "HTTPS": "false",  # plain HTTP on loopback: no TLS proxy in front
            # The benchmark measures payments, not the guard rails: its tables order in bulk and
            # keep many QR payments under way at once.
            "TABLE_OPENING": "diner",
            "MAX_ORDERS_PER_MINUTE": "100000",
            "MAX_ORDER_PORTIONS": "100000",
            "MAX_OPEN_LINES": "100000",
            "MAX_PENDING_PAYMENTS": "100000",
            "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "MEDIA_ROOT": str(OUT / "media-pay"),
            "CHANNEL_PREFIX": f"diancan-benchpay-{uuid.uuid4().hex[:8]}",
            "SANDBOX_GATEWAY": "true",
            "SANDBOX_GATEWAY_SECRET": secrets.token_hex(32),
            "SANDBOX_DELIVERY": "off",
            "LOG_LEVEL": "ERROR",
            # Every one of the 32 clients' requests holds a connection while it waits for the CPU.
            "DB_POOL_SIZE": str(CLIENTS + 8),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def seat_tables(env):
    """32 tables with one large order each; a cashier device token."""
    setup_django(env)
    from django.db import connections

    from orders import services
    from orders.models import Table
    from restaurant.lib.devices import DeviceToken

    dishes = plain_dishes(5)
    seated = []
    for number in range(1, CLIENTS * TABLES_PER_CLIENT + 1):
        table = Table.objects.create(code=f"PB{number:03d}", area="bench")
        tab = services.tab_for_table(table=table)
        services.order_submit(
            tab=tab,
            key="bench",
            guests=4,
            lines=[services.LineRequest(dish=dish.pk, quantity=99) for dish in dishes],
        )
        tab.refresh_from_db()
        seated.append({"token": table.token, "tab": tab.pk, "version": tab.version})
    _device, token = DeviceToken.issue(name="bench", role="cashier")
    connections.close_all()
    return seated, token


class Http:
    """One keep-alive HTTP/1.1 connection, enough for daphne's answers (Content-Length)."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=()):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        head += [f"{name}: {value}" for name, value in headers]
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line, *lines = (
            (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        )
        fields = {}
        for line in lines:
            if ":" in line:
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
        answer = await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1]), answer

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def pay_load(port, seated, token, clients=CLIENTS, method="cash"):
    """`clients` clients, each paying ¥1 (cash, or card with a terminal reference) on its own
    tables, back to back."""
    import json

    counted, latencies, errors = [0], [], [0]
    start = time.perf_counter()
    measure_from = start + WARMUP_SECONDS
    stop = measure_from + DURATION_SECONDS
    auth = [("Authorization", f"Bearer {token}")]

    async def client(tables):
        http = Http(port)
        turn = 0
        try:
            while (now := time.perf_counter()) < stop:
                table = tables[turn % len(tables)]
                turn += 1
                version = table["version"]
                payment = {"method": method, "amount": "1.00", "version": version}
                payment["key"] = uuid.uuid4().hex
                if method == "card":
                    payment["reference"] = f"T{turn:06d}"
                body = json.dumps(payment).encode()
                status, answer = await asyncio.wait_for(
                    http.request("POST", f"/api/v1/tabs/{table['tab']}/payments", body, auth), 30
                )
                done = time.perf_counter()
                if status == 201:
                    table["version"] = json.loads(answer)["settlement"]["version"]
                    if now >= measure_from:
                        counted[0] += 1
                        latencies.append((done - now) * 1000)
                else:
                    errors[0] += 1
                    table["version"] = (await refresh_version(http, table, auth)) or version
        finally:
            http.close()

    groups = [seated[i::clients] for i in range(clients)]
    await asyncio.gather(*(client(tables) for tables in groups))
    return {
        "rate": counted[0] / DURATION_SECONDS,
        "payments": counted[0],
        "p50": percentile(sorted(latencies), 0.5),
        "p99": percentile(sorted(latencies), 0.99),
        "errors": errors[0],
    }


async def ping_load(port, clients):
    """The trivial Django view with the same clients and client code: the run's yardstick."""
    counted = [0]
    start = time.perf_counter()
    measure_from = start + WARMUP_SECONDS
    stop = measure_from + DURATION_SECONDS

    async def client():
        http = Http(port)
        try:
            while (now := time.perf_counter()) < stop:
                status, _answer = await http.request("GET", "/ping")
                if status == 200 and now >= measure_from:
                    counted[0] += 1
        finally:
            http.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return counted[0] / DURATION_SECONDS


async def with_cashier_screen(port, session, load):
    """Runs `load` while a cashier's floor plan is open on a socket; counts what it receives."""
    from websockets.asyncio.client import connect

    received = [0]

    async def read(ws):
        async for _message in ws:
            received[0] += 1

    async with connect(
        f"ws://127.0.0.1:{port}/ws/cashier/",
        additional_headers=[("Cookie", f"sessionid={session}")],
        origin=f"http://127.0.0.1:{port}",
        max_size=None,
    ) as ws:
        await ws.recv()  # the floor plan
        reader = asyncio.create_task(read(ws))
        try:
            result = await load
        finally:
            await asyncio.sleep(1)  # pushes still on their way
            reader.cancel()
    return result, received[0]


async def refresh_version(http, table, auth):
    import json

    status, answer = await http.request("GET", f"/api/v1/tabs/{table['tab']}/settlement", b"", auth)
    return json.loads(answer)["version"] if status == 200 else None


async def start_qr_payments(port, seated):
    """Each client starts QR_PER_CLIENT QR payments of ¥1 at its table; returns their ids."""
    import json

    async def client(table):
        http = Http(port)
        ids = []
        try:
            _status, answer = await http.request(
                "GET", f"/api/v1/tables/{table['token']}/settlement"
            )
            version = json.loads(answer)["version"]
            for _ in range(QR_PER_CLIENT):
                body = json.dumps(
                    {"method": "qr", "amount": "1.00", "version": version, "key": uuid.uuid4().hex}
                ).encode()
                status, answer = await http.request(
                    "POST", f"/api/v1/tables/{table['token']}/payments", body
                )
                if status != 201:
                    raise SystemExit(f"starting a QR payment failed: {status} {answer[:300]!r}")
                ids.append(json.loads(answer)["payment"]["id"])
        finally:
            http.close()
        return ids

    return await asyncio.gather(*(client(table) for table in seated))


def gateway_notifications(payment_ids):
    """Play the gateway: approve each charge and build its signed notification."""
    from django.db import connections

    from payments.models import Payment, SandboxCharge
    from payments.providers import sandbox

    batches = []
    for ids in payment_ids:
        batch = []
        for payment in Payment.objects.filter(pk__in=ids).order_by("pk"):
            charge = SandboxCharge.objects.get(out_trade_no=payment.reference)
            charge = sandbox.gateway_decide(charge.pk, approve=True)
            batch.append(sandbox.notification_body(charge))
        batches.append(batch)
    connections.close_all()
    return batches


async def notify_load(port, batches):
    from payments.providers import sandbox

    latencies, statuses = [], {}

    async def client(bodies):
        http = Http(port)
        try:
            for body in bodies:
                headers = list(sandbox.signed_headers(body).items())
                started = time.perf_counter()
                status, _answer = await asyncio.wait_for(
                    http.request("POST", "/api/v1/payments/notify/sandbox", body, headers), 30
                )
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            http.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(bodies) for bodies in batches))
    elapsed = time.perf_counter() - started
    return {
        "count": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": percentile(sorted(latencies), 0.5),
        "p99": percentile(sorted(latencies), 0.99),
        "statuses": statuses,
    }


def books_check():
    """What the run left in the books: every payment booked once, nothing paid twice."""
    from django.db import connections
    from django.db.models import Sum

    from payments.models import LedgerEntry, Payment

    succeeded = Payment.objects.filter(status="succeeded")
    result = {
        "payments": succeeded.count(),
        "paid": succeeded.aggregate(s=Sum("amount"))["s"],
        # The bills' entries: the demo's members topped up at load (no tab), which is money
        # owed to members, not a payment of this run.
        "ledger": LedgerEntry.objects.filter(tab__isnull=False).aggregate(s=Sum("amount"))["s"],
    }
    connections.close_all()
    return result


async def settle_split_bills(port, tabs, token, seconds, *, clients, warmup, codes=None):
    """`clients` clients settling bills for `seconds` after `warmup`: read the settlement, pay
    half in cash, then the rest (by member balance where `codes` has the tab's member code, or
    the member's mobile and PIN as {"login": …, "pin": …})."""
    settled, latencies, refused = [0], [], [0]
    auth = [("Authorization", f"Bearer {token}")]
    queue = list(tabs)
    start = time.perf_counter()
    measure_from, stop = start + warmup, start + warmup + seconds

    async def pay(http, tab, amount, version, member_code=None):
        body = {"method": "cash", "amount": str(amount), "version": version}
        if member_code:  # a scanned member code, or {"login": mobile, "pin": PIN}
            shown = {"code": member_code} if isinstance(member_code, str) else member_code
            body.update(method="member", member=shown)
        body["key"] = uuid.uuid4().hex
        status, answer = await http.request(
            "POST", f"/api/v1/tabs/{tab}/payments", json.dumps(body).encode(), auth
        )
        if status != 201:
            refused[0] += 1
            return None
        return json.loads(answer)["settlement"]

    async def client():
        http = Http(port)
        try:
            while queue and (began := time.perf_counter()) < stop:
                tab = queue.pop()
                status, answer = await http.request(
                    "GET", f"/api/v1/tabs/{tab}/settlement", b"", auth
                )
                settlement = json.loads(answer)
                due = Decimal(settlement["balance_due"])
                half = (due / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                after = await pay(http, tab, half, settlement["version"])
                if after is None:
                    continue
                code = codes.get(tab) if codes else None
                final = await pay(http, tab, after["balance_due"], after["version"], code)
                done = time.perf_counter()
                if final and final["balance_due"] == "0.00" and began >= measure_from:
                    settled[0] += 1
                    latencies.append((done - began) * 1000)
        finally:
            http.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return {
        "rate": settled[0] / seconds,
        "bills": settled[0],
        "p50": percentile(sorted(latencies), 0.5),
        "p99": percentile(sorted(latencies), 0.99),
        "refused": refused[0],
        "left": queue,
    }


def main():
    port = free_port()
    database_url = create_database()
    daphne = None
    try:
        env = environment(port, database_url)
        manage(env, "migrate", "--noinput")
        load_demo(env)
        manage(env, "collectstatic", "--noinput")
        seated, token = seat_tables(env)
        log(f"daphne on 127.0.0.1:{port}")
        daphne = Daphne(env, port, log_path=OUT / "daphne-pay.log")
        daphne.wait_until_ready()
        log(f"/ping, then card payments with a cashier screen, then /ping: {CARD_CLIENTS} clients")
        ping_before = asyncio.run(ping_load(port, CARD_CLIENTS))
        cashier = staff_session(port, "cashier", "diancan-cashier")
        card_tabs = seated[-CARD_CLIENTS:]
        card, pushes = asyncio.run(
            with_cashier_screen(
                port, cashier, pay_load(port, card_tabs, token, CARD_CLIENTS, "card")
            )
        )
        ping_after = asyncio.run(ping_load(port, CARD_CLIENTS))
        log(f"payments: {CLIENTS} clients for {WARMUP_SECONDS}+{DURATION_SECONDS} s")
        pay = asyncio.run(pay_load(port, seated[:-CARD_CLIENTS], token))
        first = replay = None
        if os.environ.get("BENCH_NOTIFY", "on") != "off":  # off: the card and cash figures only
            log(f"starting {CLIENTS * QR_PER_CLIENT} QR payments")
            payment_ids = asyncio.run(start_qr_payments(port, seated[:CLIENTS]))
            batches = gateway_notifications(payment_ids)
            log("notifications: first deliveries")
            first = asyncio.run(notify_load(port, batches))
            log("notifications: replays")
            replay = asyncio.run(notify_load(port, batches))
        books = books_check()
    finally:
        if daphne:
            daphne.stop()
        drop_database()
    import django

    print(f"Diancan payments benchmark · {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs · Python {platform.python_version()}"
        f" · Django {django.get_version()} · PostgreSQL + {'Redis' if os.environ.get('REDIS_URL') else 'in-memory layer'}"
        " · one daphne process, DEBUG off"
    )
    print()
    ping = (ping_before + ping_after) / 2
    print(
        f"Card payments through POST /api/v1/tabs/<tab>/payments, {CARD_CLIENTS} clients on"
        f" {CARD_CLIENTS} tabs, a cashier's floor plan open on a socket, {DURATION_SECONDS} s:"
    )
    print(
        f"  {card['rate']:.1f} payments/s ({card['payments']} payments), latency p50"
        f" {card['p50']:.1f} ms, p99 {card['p99']:.1f} ms, refused {card['errors']};"
        f" the cashier screen received {pushes} pushes"
    )
    print(
        f"  /ping with the same {CARD_CLIENTS} clients: {ping_before:.1f}/s before,"
        f" {ping_after:.1f}/s after; card payments / ping = {card['rate'] / ping:.2f}"
    )
    print()
    print(
        f"Payments through POST /api/v1/tabs/<tab>/payments (cash), {CLIENTS} clients on distinct tables, {DURATION_SECONDS} s:"
    )
    print(
        f"  {pay['rate']:.0f} payments/s ({pay['payments']} payments), latency p50 {pay['p50']:.1f} ms,"
        f" p99 {pay['p99']:.1f} ms, refused {pay['errors']}"
    )
    if first:
        print(f"Notify handling, {first['count']} signed notifications, {CLIENTS} at a time:")
        print(
            f"  first delivery: p50 {first['p50']:.1f} ms, p99 {first['p99']:.1f} ms"
            f" ({first['rate']:.0f}/s, answers {first['statuses']})"
        )
        print(
            f"  replay:         p50 {replay['p50']:.1f} ms, p99 {replay['p99']:.1f} ms"
            f" ({replay['rate']:.0f}/s, answers {replay['statuses']})"
        )
    print(
        f"Books after the run: {books['payments']} payments succeeded, paid ¥{books['paid']},"
        f" ledger (bills' entries) ¥{books['ledger']}"
    )


if __name__ == "__main__":
    main()
