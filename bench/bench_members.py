"""Benchmark of members (issue 9): how fast bills settle through API v1 when each has a member
on it, a coupon, and a split of cash and member balance (taken with the member's code, as the
till scans it), against plain bills split in cash, in the same run. It prints figures; it is
not a test and asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python bench/bench_members.py

What it does, on loopback only, bounded in time, stopping by itself:

1. Creates the database `diancan_bench_members` beside DATABASE_URL's (dropped at the end),
   runs migrate and load_demo with DEBUG off (bench_payments' environment).
2. Seats BILLS_PER_KIND *plain* bills and as many *member* bills (the same five dishes × 3);
   each member bill has its own member (topped up ¥1000, with no PIN: the code is what pays)
   on it (member prices and the level's discount) and a 满100减20 coupon redeemed.
3. Starts one daphne process. CLIENTS clients settle bills back to back: read the settlement,
   pay half in cash at its version, then the rest at the answer's version, in cash (plain) or
   by member balance with the member's code of this minute (member). Phases alternate plain,
   member, plain, member (PHASE_SECONDS each after a warm-up), so that the machine's noise
   falls on both alike. The codes are computed just before each member phase (they turn every
   minute).

The PIN path (a phone's member typing the PIN) costs one password hash check per payment
(Django's PBKDF2): a different figure, not measured here.

Progress goes to stderr, the report to stdout.
"""

import asyncio
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
    load_demo,
    log,
    manage,
    plain_dishes,
    setup_django,
)

bp.DATABASE = "diancan_bench_members" + SUFFIX
CLIENTS = 8
PHASE_SECONDS = 8
WARMUP_SECONDS = 2
BILLS_PER_KIND = 300


def seat_bills(env):
    """BILLS_PER_KIND plain and member bills; {member tab: member id}; a cashier device token."""
    setup_django(env)
    from django.db import connections

    from orders import services
    from orders.models import Table
    from payments.coupons import services as coupons
    from payments.coupons.models import Coupon
    from payments.members import services as members
    from payments.members.models import Level
    from restaurant.lib.devices import DeviceToken

    dishes = plain_dishes(5)
    gold = Level.objects.get(name="金卡会员")
    coupon = Coupon.objects.create(
        name="满100减20", type="threshold", off=Decimal("20"), minimum=Decimal("100")
    )
    bills: dict[str, list[int]] = {"plain": [], "member": []}
    payer: dict[int, int] = {}
    for kind in bills:
        for number in range(1, BILLS_PER_KIND + 1):
            table = Table.objects.create(code=f"{kind[0].upper()}{number:04d}")
            tab = services.tab_for_table(table=table)
            assert tab is not None
            services.order_submit(
                tab=tab,
                key="bench",
                guests=4,
                lines=[services.LineRequest(dish=dish.pk, quantity=3) for dish in dishes],
            )
            if kind == "member":
                member = members.member_create(level_id=gold.pk)
                members.top_up_create(
                    member_id=member.pk, amount=Decimal("1000"), method="cash", key="bench"
                )
                services.tab_member_set(
                    tab_id=tab.pk,
                    member_ref=members.member_ref(member),
                    label=gold.name,
                    discount_rate=gold.discount_rate,
                )
                coupons.coupon_redeem(code=coupons.coupon_issue(coupon=coupon).code, tab_id=tab.pk)
                payer[tab.pk] = member.pk
            bills[kind].append(tab.pk)
    _device, token = DeviceToken.issue(name="bench", role="cashier")
    connections.close_all()
    return bills, payer, token


def codes_now(payer):
    """This minute's member code of each member bill's member (pure HMAC: nothing written)."""
    from payments.members import services as members
    from payments.members.models import Member

    by_id = {m.pk: m for m in Member.objects.filter(pk__in=payer.values())}
    return {tab: members.member_code(by_id[member])[0] for tab, member in payer.items()}


def books():
    """Money owed to members (ledger) and the sum of balances, after the run."""
    from django.db import connections
    from django.db.models import Sum

    from payments.members.models import Member, Move
    from payments.members.selectors import owed_to_members

    figures = Member.objects.aggregate(p=Sum("principal"), b=Sum("bonus"))
    spends = Move.objects.filter(kind="spend").count()
    owed = owed_to_members()
    connections.close_all()
    return owed, (figures["p"] or 0) + (figures["b"] or 0), spends


def main():
    port = free_port()
    database_url = bp.create_database()
    daphne = None
    results: dict[str, list[dict]] = {"plain": [], "member": []}
    try:
        env = bp.environment(port, database_url)
        manage(env, "migrate", "--noinput")
        load_demo(env)
        log(f"seating {BILLS_PER_KIND} plain and {BILLS_PER_KIND} member bills")
        bills, payer, token = seat_bills(env)
        daphne = Daphne(env, port, log_path=OUT / "daphne-members.log")
        daphne.wait_until_ready()
        left = {kind: list(reversed(bills[kind])) for kind in bills}
        for kind in ("plain", "member", "plain", "member"):
            log(f"{kind}: {CLIENTS} clients for {WARMUP_SECONDS}+{PHASE_SECONDS} s")
            codes = codes_now(payer) if kind == "member" else None
            result = asyncio.run(
                bp.settle_split_bills(
                    port,
                    left[kind],
                    token,
                    PHASE_SECONDS,
                    clients=CLIENTS,
                    warmup=WARMUP_SECONDS,
                    codes=codes,
                )
            )
            left[kind] = result.pop("left")
            results[kind].append(result)
        owed, balances, spends = books()
    finally:
        if daphne:
            daphne.stop()
        bp.drop_database()
    import django

    print(f"Diancan members benchmark · {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        f" · Python {platform.python_version()} · Django {django.get_version()}"
        f" · PostgreSQL + {'Redis' if os.environ.get('REDIS_URL') else 'in-memory layer'}"
        " · one daphne process, DEBUG off"
    )
    print(
        f"Bills settled (GET settlement, pay half in cash, the rest in cash or by member balance"
        f" with the member code), {CLIENTS} clients, phases of {PHASE_SECONDS} s alternating:"
    )
    rates = {}
    for kind in ("plain", "member"):
        runs = results[kind]
        rates[kind] = sum(r["rate"] for r in runs) / len(runs)
        each = " / ".join(f"{r['rate']:.2f}" for r in runs)
        p50 = sum(r["p50"] for r in runs) / len(runs)
        p99 = max(r["p99"] for r in runs)
        refused = sum(r["refused"] for r in runs)
        print(
            f"  {kind:6}: {rates[kind]:.2f} bills/s (phases {each}), p50 {p50:.0f} ms,"
            f" p99 {p99:.0f} ms, refused {refused}"
        )
    print(f"  member / plain = {rates['member'] / rates['plain']:.2f} (target ≥ 0.80)")
    print(f"Books: owed to members {owed} = balances {balances} ({spends} balance payments)")


if __name__ == "__main__":
    main()
