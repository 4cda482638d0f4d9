"""Benchmark of members (issue 9): how fast bills settle through API v1 when each has a member
on it, a coupon, and a split of cash and member balance, the member shown by their code (as the
till scans it) or by mobile and PIN (as a phone's member or the till types it), against plain
bills split in cash, in the same run; and what a PIN check costs. It prints figures; it is not a
test and asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python bench/bench_members.py

What it does, on loopback only, bounded in time, stopping by itself:

1. Creates the database `diancan_bench_members` beside DATABASE_URL's (dropped at the end),
   runs migrate and load_demo with DEBUG off (bench_payments' environment).
2. Seats BILLS_PER_KIND *plain* bills, as many *member* bills and as many *pin* bills (the same
   five dishes × 3); each member or pin bill has its own member (topped up ¥1000) on it (member
   prices and the level's discount) and a 满100减20 coupon redeemed. A pin bill's member has a
   mobile and a PIN: one PBKDF2 hash made once and given to all of them, since hashing each
   would take the seating minutes; each check still runs the whole PBKDF2.
3. Starts one daphne process. CLIENTS clients settle bills back to back: read the settlement,
   pay half in cash at its version, then the rest at the answer's version, in cash (plain), by
   member balance with the member's code of this minute (member), or by member balance with
   the mobile and PIN (pin). Phases alternate plain, member, pin, plain, member, pin
   (PHASE_SECONDS each after a warm-up), so that the machine's noise falls on all alike. The
   codes are computed just before each member phase (they turn every minute).
4. In this process, on the same database, with the server stopped: the PIN check alone
   (Django's PBKDF2 `check_password`), a member identified by mobile and PIN against by member
   code (`member_identify`, what a payment by balance does first), PIN_ROUNDS times each; then
   five wrong PINs in a row, each timed, the fifth locking the PIN, and the right PIN refused
   while locked.

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
KINDS = ("plain", "member", "pin")
PREFIX = {"plain": "P", "member": "M", "pin": "N"}  # of the bills' table codes
PIN = "246810"
PIN_ROUNDS = 10


def seat_bills(env):
    """BILLS_PER_KIND bills of each kind; {member tab: member id}; {pin tab: its member's
    mobile and PIN}; a cashier device token."""
    setup_django(env)
    from django.contrib.auth.hashers import make_password
    from django.db import connections

    from orders import services
    from orders.models import Table
    from payments.coupons import services as coupons
    from payments.coupons.models import Coupon
    from payments.members import services as members
    from payments.members.models import Level, Member
    from restaurant.lib.devices import DeviceToken

    dishes = plain_dishes(5)
    gold = Level.objects.get(name="金卡会员")
    coupon = Coupon.objects.create(
        name="满100减20", type="threshold", off=Decimal("20"), minimum=Decimal("100")
    )
    bills: dict[str, list[int]] = {kind: [] for kind in KINDS}
    payer: dict[int, int] = {}
    logins: dict[int, dict[str, str]] = {}
    pin_hash = make_password(PIN)
    for kind in bills:
        for number in range(1, BILLS_PER_KIND + 1):
            table = Table.objects.create(code=f"{PREFIX[kind]}{number:04d}")
            tab = services.tab_for_table(table=table)
            assert tab is not None
            services.order_submit(
                tab=tab,
                key="bench",
                guests=4,
                lines=[services.LineRequest(dish=dish.pk, quantity=3) for dish in dishes],
            )
            if kind in ("member", "pin"):
                mobile = f"139{number:08d}" if kind == "pin" else None
                member = members.member_create(level_id=gold.pk, mobile=mobile)
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
                if kind == "pin":
                    Member.objects.filter(pk=member.pk).update(pin=pin_hash)
                    logins[tab.pk] = {"login": member.mobile or "", "pin": PIN}
                else:
                    payer[tab.pk] = member.pk
            bills[kind].append(tab.pk)
    _device, token = DeviceToken.issue(name="bench", role="cashier")
    connections.close_all()
    return bills, payer, logins, token


def codes_now(payer):
    """This minute's member code of each member bill's member (pure HMAC: nothing written)."""
    from payments.members import services as members
    from payments.members.models import Member

    by_id = {m.pk: m for m in Member.objects.filter(pk__in=payer.values())}
    return {tab: members.member_code(by_id[member])[0] for tab, member in payer.items()}


def pin_costs():
    """What a PIN costs, in ms: the hash check alone, a member identified by mobile and PIN and
    by member code (PIN_ROUNDS each, mean), five wrong PINs in a row (each), and the right PIN
    refused while locked."""
    from time import perf_counter

    from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password
    from django.db import connections

    from payments.members import services as members
    from restaurant.lib.errors import Refused

    member = members.member_create(mobile="13700000000", pin=PIN)
    login = members.MemberAuth(login="13700000000", pin=PIN)

    def mean_ms(work):
        work()  # a first call outside the figures (connections, caches)
        start = perf_counter()
        for _ in range(PIN_ROUNDS):
            work()
        return (perf_counter() - start) / PIN_ROUNDS * 1000

    def by_code():
        members.member_identify(members.MemberAuth(code=members.member_code(member)[0]))

    figures = {
        "iterations": PBKDF2PasswordHasher.iterations,
        "hash": mean_ms(lambda: check_password(PIN, member.pin)),
        "pin": mean_ms(lambda: members.member_identify(login)),
        "code": mean_ms(by_code),
        "wrong": [],
    }
    for _ in range(5):
        start = perf_counter()
        try:
            members.member_pin_check(member_id=member.pk, pin="000000")
        except Refused as refused:
            figures["wrong"].append(((perf_counter() - start) * 1000, refused.code.value))
    start = perf_counter()
    try:
        members.member_pin_check(member_id=member.pk, pin=PIN)
        figures["locked"] = ((perf_counter() - start) * 1000, "accepted")
    except Refused as refused:
        figures["locked"] = ((perf_counter() - start) * 1000, refused.code.value)
    connections.close_all()
    return figures


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
    results: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    try:
        env = bp.environment(port, database_url)
        manage(env, "migrate", "--noinput")
        load_demo(env)
        log(f"seating {BILLS_PER_KIND} bills of each kind: {', '.join(KINDS)}")
        bills, payer, logins, token = seat_bills(env)
        daphne = Daphne(env, port, log_path=OUT / "daphne-members.log")
        daphne.wait_until_ready()
        left = {kind: list(reversed(bills[kind])) for kind in bills}
        for kind in KINDS + KINDS:
            log(f"{kind}: {CLIENTS} clients for {WARMUP_SECONDS}+{PHASE_SECONDS} s")
            codes = {"member": codes_now(payer), "pin": logins}.get(kind)
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
        daphne.stop()
        log(f"PIN costs in this process, {PIN_ROUNDS} rounds each")
        pins = pin_costs()
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
        f" with the member code or with mobile and PIN), {CLIENTS} clients, phases of"
        f" {PHASE_SECONDS} s alternating:"
    )
    rates = {}
    for kind in KINDS:
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
    print(f"  pin / member = {rates['pin'] / rates['member']:.2f}")
    print(
        f"PIN check (PBKDF2-SHA256, {pins['iterations']:,} iterations), in-process, mean of"
        f" {PIN_ROUNDS}:"
    )
    print(f"  check_password alone: {pins['hash']:.0f} ms")
    print(
        f"  member identified by mobile + PIN: {pins['pin']:.0f} ms; by member code:"
        f" {pins['code']:.1f} ms; the PIN adds {pins['pin'] - pins['code']:.0f} ms to a payment"
    )
    wrong = ", ".join(f"{ms:.0f} ms {code}" for ms, code in pins["wrong"])
    total = sum(ms for ms, _code in pins["wrong"])
    print(f"  five wrong PINs: {total:.0f} ms in all ({wrong})")
    print(f"  then the right PIN while locked: {pins['locked'][0]:.1f} ms, {pins['locked'][1]}")
    print(f"Books: owed to members {owed} = balances {balances} ({spends} balance payments)")


if __name__ == "__main__":
    main()
