"""Fault drills on servers of the drill's own (PostgreSQL from initdb and a redis-server, on
free loopback ports): two daphne processes behind an imagined load balancer; one is killed
with SIGKILL in the middle of a 12-table rush. Bounded: 12 tables x 6 orders, every wait
has a timeout. The shared servers of the machine are never touched."""

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import need
from tests.live import ROOT, Daphne
from tests.orders.test_scale_out import socket, wait_for
from tests.private_servers import PrivatePostgres, PrivateRedis, available

TABLES, ROUNDS = 12, 6

SEED = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore
from menu.models import Category, Dish, Station
from orders.models import Table

station = Station.objects.create(name="热菜", name_en="Hot", slug="hot", position=1)
category = Category.objects.create(name="热菜", name_en="Hot dishes", position=1)
dish = Dish.objects.create(category=category, name="拍黄瓜", price="12.00", station=station)
tables = [Table.objects.create(code=f"D{n}", area="大厅", seats=4) for n in range(1, 13)]
from restaurant.lib.devices import DeviceToken
_device, cashier_token = DeviceToken.issue(name="counter", role="cashier")
cook = User.objects.create_user("cook", password="pw-cook")
cook.groups.add(Group.objects.get_or_create(name="kitchen")[0])
session = SessionStore()
session[SESSION_KEY] = str(cook.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = cook.get_session_auth_hash()
session.create()
print(json.dumps({"dish": dish.pk, "tables": [t.token for t in tables],
                  "cookie": "sessionid=" + session.session_key, "cashier": cashier_token}))
"""


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def stack(tmp_path):
    """A private PostgreSQL and Redis, migrated and seeded; their URLs for daphne."""
    need(available(), "initdb, pg_ctl and redis-server for private servers")
    import os

    postgres = PrivatePostgres()
    redis = PrivateRedis(tmp_path)
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "DB_POOL_SIZE": "4"}
    full = {**os.environ, "DEBUG": "true", **env}
    try:
        manage(full, "migrate", "--noinput")
        seed = json.loads(manage(full, "shell", "-c", SEED).strip().splitlines()[-1])
        yield {"env": env, "postgres": postgres, "redis": redis, **seed}
    finally:
        redis.stop()
        postgres.remove()


def call(url, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def order(url, token, key, dish):
    body = {"key": key, "guests": 2, "lines": [{"dish": dish, "quantity": 1}]}
    request = urllib.request.Request(
        f"{url}/api/v1/tables/{token}/orders", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=15) as answer:
        return answer.status, json.loads(answer.read())


def test_kill_9_of_one_of_two_daphnes_mid_rush_loses_and_doubles_no_order(stack, tmp_path):
    a = Daphne(prefix="drill", log_dir=tmp_path, env=stack["env"])
    b = Daphne(prefix="drill", log_dir=tmp_path, env=stack["env"])
    answered, failed_on_a, lock = {}, [], threading.Lock()
    started = threading.Barrier(TABLES + 1)

    def diner(n, token):
        started.wait()
        for round_ in range(ROUNDS):
            key = f"t{n}-r{round_}"
            servers = [a, b] if (n + round_) % 2 else [b, a]
            for server in servers:  # the load balancer tries the other process on failure
                try:
                    status, placed = order(server.url, token, key, stack["dish"])
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    with lock:
                        failed_on_a.append(key)
                    continue
                assert status in (200, 201)
                with lock:
                    answered[key] = placed["id"]
                break
            time.sleep(0.05)

    try:
        with socket(a, "/ws/kitchen/", stack["cookie"]) as on_a:
            wait_for(on_a, 'id="board"')
            threads = [
                threading.Thread(target=diner, args=(n, token))
                for n, token in enumerate(stack["tables"])
            ]
            for thread in threads:
                thread.start()
            started.wait()
            deadline = time.monotonic() + 30
            while len(answered) < TABLES * ROUNDS // 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            a.process.kill()  # SIGKILL: no goodbye, no on_commit pushes left
            for thread in threads:
                thread.join(timeout=120)
        assert len(answered) == TABLES * ROUNDS, "every order was answered by one of the two"
        assert failed_on_a, "the kill happened during the rush"

        # The screen that was on A reconnects to the survivor.
        with socket(b, "/ws/kitchen/", stack["cookie"]) as on_b:
            board = wait_for(on_b, 'id="board"', timeout=20)
        ids = set(answered.values())
        assert len(ids) == TABLES * ROUNDS, "one order per key, none twice"
        for order_id in ids:
            assert board.count(f'id="ticket-{order_id}"') == 1, order_id
        assert board.count('class="ticket"') == len(ids)
    finally:
        a.stop()
        b.stop()


OUTAGE = 30  # seconds without Redis


def test_ordering_and_paying_go_on_while_redis_is_down_and_screens_heal_after(stack, tmp_path):
    """What degrades while Redis is down: nothing is pushed (open screens stand still) and a
    screen cannot (re)connect its socket. What does not: the menu page, ordering, paying."""
    server = Daphne(prefix="outage", log_dir=tmp_path, env=stack["env"])
    tables, dish, cashier = stack["tables"], stack["dish"], stack["cashier"]
    placed, paid = [], []
    try:
        with socket(server, "/ws/kitchen/", stack["cookie"]) as kitchen:
            wait_for(kitchen, 'id="board"')
        stack["redis"].stop()
        down_since = time.monotonic()
        n = 0
        while time.monotonic() - down_since < OUTAGE:
            token = tables[n % len(tables)]
            page_status, _page = call(f"{server.url}/t/{token}/")
            assert page_status == 200, _page[-2000:]
            status, body = call(
                f"{server.url}/api/v1/tables/{token}/orders",
                {"key": f"down-{n}", "guests": 2, "lines": [{"dish": dish, "quantity": 1}]},
            )
            assert status == 201, body[-2000:]
            placed.append(json.loads(body)["id"])
            status, body = call(f"{server.url}/api/v1/tables/{token}/settlement")
            assert status == 200, body[-2000:]
            settlement = json.loads(body)
            status, body = call(
                f"{server.url}/api/v1/tabs/{settlement['tab']}/payments",
                {
                    "method": "cash",
                    "amount": settlement["balance_due"],
                    "version": settlement["version"],
                    "key": f"pay-{n}",
                },
                cashier,
            )
            assert status == 201, body[-2000:]
            paid.append(json.loads(body)["payment"]["id"])
            n += 1
            time.sleep(1)
        stack["redis"].start()
        deadline = time.monotonic() + 30
        while True:  # the first sockets after Redis is back may still find it cold
            try:
                with socket(server, "/ws/kitchen/", stack["cookie"]) as kitchen:
                    board = wait_for(kitchen, 'id="board"', timeout=10)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        assert len(placed) >= 5 and len(paid) == len(placed)
        for order_id in placed:
            assert board.count(f'id="ticket-{order_id}"') == 1, order_id
    finally:
        server.stop()
