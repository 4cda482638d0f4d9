"""Benchmark of the price rules (issue 9): how fast bills settle through API v1 when each has a
member (member price and level discount), a coupon and a seat charge, against plain bills, in
the same run. It prints figures; it is not a test and asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/bench_price_rules.py

What it does, on loopback only, bounded in time, stopping by itself:

1. Creates the database `diancan_bench_price` beside DATABASE_URL's (dropped at the end), runs
   migrate and load_demo with DEBUG off (bench_payments' environment).
2. Seats two kinds of bills with the same five dishes × 3: *plain* ones, and *rich* ones at
   tables of an area with a 茶位费 of ¥3 per guest (4 guests), a member on the bill (level rate
   0.9; one dish with a member price) and a 满100减20 coupon redeemed.
3. Starts one daphne process. CLIENTS clients, each with its own bills and keep-alive
   connection, settle bills back to back: read the settlement (`GET /api/v1/tabs/<tab>/
   settlement`), pay half in cash at its version, then the rest at the answer's version: a
   split of two payments, the bill settled. Phases alternate plain, rich, plain, rich
   (PHASE_SECONDS each after a warm-up) so that the machine's noise falls on both alike.

Progress goes to stderr, the report to stdout.
"""

import asyncio
import json
import os
import platform
import time
from decimal import Decimal

import bench_payments as bp
from common import (
    OUT,
    SUFFIX,
    Daphne,
    free_port,
    http_get,
    load_demo,
    log,
    manage,
    plain_dishes,
    setup_django,
)

bp.DATABASE = "diancan_bench_price" + SUFFIX
CLIENTS = 8
PHASE_SECONDS = 8
WARMUP_SECONDS = 2
BILLS_PER_KIND = 400


def seat_bills(env):
    """BILLS_PER_KIND plain and rich bills; a cashier device token."""
    setup_django(env)
    from django.db import connections

    from orders import services
    from orders.models import Area, Table
    from payments.coupons import services as coupons
    from payments.coupons.models import Coupon
    from restaurant.lib.devices import DeviceToken

    dishes = plain_dishes(5)
    # One dish with a member price, as described: the demo gives some dishes one of their own.
    for dish in dishes:
        dish.member_price = None
    dishes[0].member_price = (dishes[0].price * Decimal("0.8")).quantize(Decimal("0.01"))
    for dish in dishes:
        dish.save(update_fields=["member_price"])
    Area.objects.create(name="bench-rich", seat_charge=Decimal("3.00"), seat_charge_name="茶位费")
    coupon = Coupon.objects.create(
        name="满100减20", type="threshold", off=Decimal("20"), minimum=Decimal("100")
    )
    bills: dict[str, list[int]] = {"plain": [], "rich": []}
    for kind in bills:
        for number in range(1, BILLS_PER_KIND + 1):
            table = Table.objects.create(
                code=f"{kind[0].upper()}{number:04d}", area="bench-rich" if kind == "rich" else ""
            )
            tab = services.tab_for_table(table=table)
            assert tab is not None  # create=True always gives one
            services.order_submit(
                tab=tab,
                key="bench",
                guests=4,
                lines=[services.LineRequest(dish=dish.pk, quantity=3) for dish in dishes],
            )
            if kind == "rich":
                services.tab_member_set(
                    tab_id=tab.pk,
                    member_ref=f"bench-{number}",
                    label="金卡",
                    discount_rate=Decimal("0.900"),
                )
                coupons.coupon_redeem(code=coupons.coupon_issue(coupon=coupon).code, tab_id=tab.pk)
            bills[kind].append(tab.pk)
    _device, token = DeviceToken.issue(name="bench", role="cashier")
    connections.close_all()
    return bills, token


def sample_settlement(port, token, tab):
    _status, _headers, body = http_get(
        port, f"/api/v1/tabs/{tab}/settlement", headers=[("Authorization", f"Bearer {token}")]
    )
    return json.loads(body)


def main():
    port = free_port()
    database_url = bp.create_database()
    daphne = None
    results: dict[str, list[dict]] = {"plain": [], "rich": []}
    try:
        env = bp.environment(port, database_url)
        manage(env, "migrate", "--noinput")
        load_demo(env)
        log(f"seating {BILLS_PER_KIND} plain and {BILLS_PER_KIND} rich bills")
        bills, token = seat_bills(env)
        daphne = Daphne(env, port, log_path=OUT / "daphne-price.log")
        daphne.wait_until_ready()
        example = {kind: sample_settlement(port, token, bills[kind][0]) for kind in bills}
        left = {kind: list(reversed(bills[kind][1:])) for kind in bills}
        for kind in ("plain", "rich", "plain", "rich"):
            log(f"{kind}: {CLIENTS} clients for {WARMUP_SECONDS}+{PHASE_SECONDS} s")
            result = asyncio.run(
                bp.settle_split_bills(
                    port,
                    left[kind],
                    token,
                    PHASE_SECONDS,
                    clients=CLIENTS,
                    warmup=WARMUP_SECONDS,
                )
            )
            left[kind] = result.pop("left")
            results[kind].append(result)
    finally:
        if daphne:
            daphne.stop()
        bp.drop_database()
    import django

    print(f"Diancan price-rules benchmark · {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        f" · Python {platform.python_version()} · Django {django.get_version()}"
        f" · PostgreSQL + {'Redis' if os.environ.get('REDIS_URL') else 'in-memory layer'}"
        " · one daphne process, DEBUG off"
    )
    for kind in ("plain", "rich"):
        s = example[kind]
        rows = ", ".join(f"{r['kind']} {r['amount']}" for r in s["adjustments"]) or "none"
        print(f"  a {kind} bill: subtotal {s['subtotal']}, total {s['total']} ({rows})")
    print()
    print(
        f"Bills settled (GET settlement, pay half, pay the rest), {CLIENTS} clients,"
        f" phases of {PHASE_SECONDS} s alternating:"
    )
    rates = {}
    for kind in ("plain", "rich"):
        runs = results[kind]
        rates[kind] = sum(r["rate"] for r in runs) / len(runs)
        each = " / ".join(f"{r['rate']:.2f}" for r in runs)
        p50 = sum(r["p50"] for r in runs) / len(runs)
        p99 = max(r["p99"] for r in runs)
        refused = sum(r["refused"] for r in runs)
        print(
            f"  {kind:5}: {rates[kind]:.2f} bills/s (phases {each}), p50 {p50:.0f} ms,"
            f" p99 {p99:.0f} ms, refused {refused}"
        )
    print(f"  rich / plain = {rates['rich'] / rates['plain']:.2f} (target ≥ 0.80)")


if __name__ == "__main__":
    main()
