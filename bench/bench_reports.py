"""Benchmark of the manager's reports on a year of data: each report page's time against a
trivial view's (`/ping`) in the same run. It prints figures; it is not a test and asserts
nothing. It needs PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/bench_reports.py

What it does, on loopback, bounded, stopping by itself:

1. Builds its own database `diancan_bench_reports` beside DATABASE_URL's (dropped and created
   anew): migrate, load_demo, collectstatic, DEBUG off, a random SECRET_KEY.
2. Loads a year (365 business days up to yesterday) of 300 bills a day, written straight into
   the tables with bulk inserts (the services would take hours): each bill at a demo table,
   1 to 6 guests, opened between 11:00 and 22:30, seated 30 to 120 minutes, one order of 2 to 6
   dishes of the demo menu (1 in 40 voided, 1 in 10 with a dish discount, 1 in 20 with a bill
   discount), paid in one payment (cash, card, WeChat Pay or Alipay) when it closed, and its
   business day as the books record it (TabDay); voids and discounts in the tab's trail.
   About 110,000 bills, 440,000 dishes. Then ANALYZE.
3. Starts one daphne process, signs in as the demo manager, and times each report page
   (GET, sequentially, one keep-alive connection) over one day, one month and the whole year,
   against `/ping` timed the same way in the same run: the median of REPEAT requests each.
   Target (issue 10): each report page under 10× the trivial view.

Before step 3 every loaded day is closed (日结) and its reports' roll-up summed, as the worker
does once each closed day is over; BENCH_NO_ROLLUP=1 drops the roll-up instead, to time the live
reads in the same conditions.

With BENCH_REUSE=1 it keeps the database a previous run loaded (no drop, no load: step 3
only), to measure a change again in minutes.

Progress goes to stderr, the report to stdout.
"""

import asyncio
import os
import random
import statistics
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import common
from common import (
    BENCH_DATABASE,
    SUFFIX,
    Daphne,
    HttpConnection,
    bench_environment,
    free_port,
    log,
    machine,
    manage,
    prepare_database,
    setup_django,
    staff_session,
)

DATABASE = BENCH_DATABASE + "_reports"
BILLS_PER_DAY = 300
DAYS = 365
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
REUSE = os.environ.get("BENCH_REUSE") == "1"
NO_ROLLUP = os.environ.get("BENCH_NO_ROLLUP") == "1"  # measure the live reads, for comparison
BATCH = 5000
REPORTS = ("sales", "hours", "dishes", "categories", "methods", "tables", "areas", "staff")


def load_year(seed=10):
    """A year of bills, straight into the tables (see the module's docstring)."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from menu.models import Dish
    from orders.models import Order, OrderLine, Tab, TabEvent, Table
    from payments.books.models import TabDay
    from payments.models import Payment
    from restaurant.lib.business_day import business_day

    rng = random.Random(seed)
    zone = timezone.get_default_timezone()
    tables = list(Table.objects.all())
    dishes = list(Dish.objects.all())
    staff = list(User.objects.all())
    methods = [("cash", "cash"), ("card", "card"), ("qr", "wechatpay"), ("qr", "alipay")]
    last = business_day(timezone.now()) - timedelta(days=1)
    first = last - timedelta(days=DAYS - 1)
    started = time.monotonic()
    tabs, days = [], []
    day = first
    while day <= last:
        for _ in range(BILLS_PER_DAY):
            opened = datetime.combine(day, clock(11), tzinfo=zone) + timedelta(
                minutes=rng.randrange(0, 690)
            )
            closed = opened + timedelta(minutes=rng.randrange(30, 120))
            tabs.append(
                Tab(table=rng.choice(tables), status=Tab.Status.CLOSED, guests=rng.randint(1, 6),
                    opened_at=opened, closed_at=closed,
                    discount=Decimal(rng.choice((5, 10))) if rng.random() < 0.05 else Decimal(0))
            )  # fmt: skip
            days.append(day)
        day += timedelta(days=1)
    log(f"{len(tabs)} bills from {first} to {last}")
    with transaction.atomic():
        for i in range(0, len(tabs), BATCH):
            Tab.objects.bulk_create(tabs[i : i + BATCH], batch_size=BATCH)
        TabDay.objects.bulk_create(
            [TabDay(tab=tab, day=d) for tab, d in zip(tabs, days, strict=True)], batch_size=BATCH
        )
        orders = [
            Order(tab=tab, number=1, key=f"bench-{tab.pk}", created_at=tab.opened_at
                  + timedelta(minutes=5), user=rng.choice(staff) if rng.random() < 0.3 else None)
            for tab in tabs
        ]  # fmt: skip
        Order.objects.bulk_create(orders, batch_size=BATCH)
        lines, events, payments = [], [], []
        for order in orders:
            tab = order.tab
            total = Decimal(0)
            for dish in rng.sample(dishes, rng.randint(2, min(6, len(dishes)))):
                quantity = rng.randint(1, 3)
                gross = dish.price * quantity
                discount = Decimal(2) if rng.random() < 0.1 and gross > 2 else Decimal(0)
                voided = rng.random() < 0.025
                line = OrderLine(
                    order=order, dish=dish, station_id=dish.station_id, name=dish.name,
                    quantity=quantity, unit_price=dish.price, discount=discount,
                    amount=gross - discount,
                    status=OrderLine.Status.VOIDED if voided else OrderLine.Status.SERVED,
                    status_at=tab.closed_at,
                )  # fmt: skip
                lines.append(line)
                if voided:
                    events.append((tab, line, "line.voided"))
                else:
                    total += gross - discount
            if tab.discount:
                events.append((tab, None, "tab.discount"))
            method, provider = rng.choice(methods)
            paid = max(total - tab.discount, Decimal("0.01"))
            payments.append(
                Payment(tab=tab, method=method, provider=provider, amount=paid, version=1,
                        key=f"bench-{tab.pk}", status=Payment.Status.SUCCEEDED,
                        created_at=tab.closed_at, completed_at=tab.closed_at)
            )  # fmt: skip
        OrderLine.objects.bulk_create(lines, batch_size=BATCH)
        TabEvent.objects.bulk_create(
            [
                TabEvent(tab=tab, line=line, kind=kind, user=rng.choice(staff),
                         to_status="voided" if line else "", created_at=tab.closed_at)
                for tab, line, kind in events
            ],
            batch_size=BATCH,
        )  # fmt: skip
        Payment.objects.bulk_create(payments, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(
        f"loaded {len(lines)} dishes, {len(payments)} payments in {time.monotonic() - started:.0f} s"
    )
    return first, last


async def timed(port, session, path):
    """Median and max milliseconds of REPEAT GETs of `path` (after one warm-up)."""
    connection = HttpConnection(port)
    headers = [("Cookie", f"sessionid={session}")]
    try:
        status, _headers, _body = await connection.request("GET", path, headers)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        times = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            status, _headers, _body = await connection.request("GET", path, headers)
            times.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}")
        return statistics.median(times), max(times)
    finally:
        await connection.close()


def kept_database_url(name):
    """The previous run's database, as it is (BENCH_REUSE)."""
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    name = name if name.endswith(SUFFIX) else name + SUFFIX
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def loaded_days():
    from django.db.models import Max, Min

    from payments.books.models import TabDay

    span = TabDay.objects.aggregate(first=Min("day"), last=Max("day"))
    if span["first"] is None:
        raise SystemExit("BENCH_REUSE=1 but the database holds no bills: run once without it")
    return span["first"], span["last"]


def close_days(first, last):
    """Close every loaded day (日结), as a restaurant does each night, and sum the reports'
    roll-up of each (what the worker does once a closed day is over). The Z reports are left
    empty: no page here reads them."""
    from django.contrib.auth.models import User

    from payments.books.models import BusinessDay
    from payments.reports.rollup import rollup_refresh

    manager = User.objects.get(username="manager")
    closed = set(BusinessDay.objects.values_list("day", flat=True))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    BusinessDay.objects.bulk_create(
        BusinessDay(day=day, closed_by=manager, report={}) for day in days if day not in closed
    )
    started = time.perf_counter()
    summed = rollup_refresh()
    log(f"roll-up of {len(summed)} closed days summed in {time.perf_counter() - started:.1f} s")


def main():
    port = free_port()
    if REUSE:
        common.bench_database_url = kept_database_url  # bench_environment must not drop it
    env = bench_environment(port, DATABASE)
    if not REUSE:
        prepare_database(env)
    else:
        manage(env, "migrate", "--noinput")  # the kept database may predate a migration
    setup_django(env)
    first, last = loaded_days() if REUSE else load_year()
    if NO_ROLLUP:
        from payments.reports.models import DayRollup

        DayRollup.objects.all().delete()  # every day read live, as before the roll-up
    else:
        close_days(first, last)
    daphne = Daphne(env, port)
    try:
        daphne.wait_until_ready()
        session = staff_session(port, "manager", "diancan-manager")
        month = last - timedelta(days=29)
        spans = {"day": (last, last), "month": (month, last), "year": (first, last)}

        async def run():
            ping, ping_max = await timed(port, session, "/ping")
            rows = [("/ping (trivial view)", ping, ping_max)]
            rows.append(("today at a glance", *await timed(port, session, "/manager/reports/")))
            for span, (start, end) in spans.items():
                for name in REPORTS:
                    query = f"from={start}&to={end}" + ("&unit=month" if span == "year" and
                                                          name == "sales" else "")  # fmt: skip
                    path = f"/manager/reports/{name}/?{query}"
                    rows.append((f"{name} · {span}", *await timed(port, session, path)))
                xlsx = f"/manager/reports/dishes/?from={start}&to={end}&format=xlsx"
                rows.append((f"dishes .xlsx · {span}", *await timed(port, session, xlsx)))
            return ping, rows

        ping, rows = asyncio.run(run())
    finally:
        daphne.stop()
    print(f"# Reports on a year of data ({date.today()}): {machine()}")
    print(
        f"roll-up: {'none (every day live)' if NO_ROLLUP else 'every loaded day closed and summed'}"
    )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{BILLS_PER_DAY} bills a day × {DAYS} days; median of {REPEAT} GETs each, one daphne")
    print(f"{'page':32} {'median ms':>10} {'max ms':>9} {'× /ping':>8}")
    for name, median, worst in rows:
        print(f"{name:32} {median:10.1f} {worst:9.1f} {median / ping:8.1f}")


if __name__ == "__main__":
    main()
